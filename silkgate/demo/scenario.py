"""The demo's cast: Guangxi exporters, ASEAN importers, a regulator, and what is on file
between them. Plain data, so that tests and the docs can refer to it."""

from __future__ import annotations

from datetime import date

from silkgate.model import Agreement, Filing, Instrument, Participant, Purpose

EXPORTERS: dict[str, tuple[str, str]] = {
    # id: (name, sector)
    "cn-nanning-freight": ("Nanning Silk Road Freight Forwarding Co.", "logistics"),
    "cn-guangxi-shop": ("Guangxi Border Goods Cross-border E-commerce Co.", "ecommerce"),
    "cn-pingxiang-broker": ("Pingxiang Friendship Pass Customs Brokerage Co.", "customs"),
}

IMPORTERS: dict[str, tuple[str, str]] = {
    # id: (name, jurisdiction)
    "vn-hanoi-carrier": ("Hanoi Red River Express JSC", "VN"),
    "th-bangkok-market": ("Bangkok Riverside Marketplace Co., Ltd.", "TH"),
    "my-kl-logistics": ("Kuala Lumpur Straits Logistics Sdn Bhd", "MY"),
    "sg-3pl": ("Lion City Third-Party Logistics Pte Ltd", "SG"),
    "id-jakarta-market": ("Jakarta Nusantara Marketplace PT", "ID"),
}

REGULATOR = ("cn-gx-data-authority", "Guangxi Pilot Zone Data Authority", "CN")
OPERATOR = ("gx-info-port", "China-ASEAN Information Port Hub Operator", "CN")

# Which exporter sends which product, and for what purpose.
ROUTES: dict[str, tuple[str, Purpose]] = {
    "logistics.epcis-event": ("cn-nanning-freight", "logistics_operations"),
    "logistics.waybill": ("cn-nanning-freight", "logistics_operations"),
    "ecommerce.order": ("cn-guangxi-shop", "contract_performance"),
    "customs.declaration": ("cn-pingxiang-broker", "customs_clearance"),
}

IMPORTER_BY_COUNTRY = {jur: pid for pid, (_, jur) in IMPORTERS.items()}

# Pairs deliberately left without an agreement: their traffic is denied (deny by default).
NO_AGREEMENT: set[tuple[str, str]] = {("cn-pingxiang-broker", "sg-3pl")}

# Standard contracts on file: (exporter, importer).
STANDARD_CONTRACTS: set[tuple[str, str]] = {
    ("cn-pingxiang-broker", "vn-hanoi-carrier"),
    ("cn-pingxiang-broker", "th-bangkok-market"),
}

_INSTRUMENT: dict[str, Instrument] = {
    "contract_performance": "contract_necessity",
    "logistics_operations": "cn_standard_contract",
    "customs_clearance": "cn_standard_contract",
}


def importer_for(destination: str) -> str:
    return IMPORTER_BY_COUNTRY[destination]


def agreements(valid_from: date) -> list[Agreement]:
    out: list[Agreement] = []
    for product, (exporter, purpose) in ROUTES.items():
        for importer in IMPORTERS:
            if (exporter, importer) in NO_AGREEMENT:
                continue
            out.append(
                Agreement(
                    id=f"agr-{exporter}-{importer}-{product}",
                    exporter=exporter,
                    importer=importer,
                    product=product,
                    purpose=purpose,
                    instrument=_INSTRUMENT[purpose],
                    valid_from=valid_from,
                )
            )
    return out


def filings(valid_from: date) -> list[Filing]:
    return [
        Filing(
            id=f"fil-{exporter}-{importer}",
            exporter=exporter,
            kind="standard_contract",
            recipient=importer,
            valid_from=valid_from,
            reference=f"GX-SC-{valid_from.year}-{index:04d}",
        )
        for index, (exporter, importer) in enumerate(sorted(STANDARD_CONTRACTS), start=1)
    ]


def participants(keys: dict[str, tuple[bytes, bytes]]) -> list[Participant]:
    """`keys` maps participant id -> (Ed25519 public, HPKE public)."""
    out: list[Participant] = []
    for pid, (name, sector) in EXPORTERS.items():
        sign, hpke = keys[pid]
        out.append(
            Participant(
                id=pid,
                name=name,
                jurisdiction="CN",
                roles=("exporter",),
                sector=sector,
                signing_key=sign,
                hpke_key=hpke,
            )
        )
    for pid, (name, jurisdiction) in IMPORTERS.items():
        sign, hpke = keys[pid]
        out.append(
            Participant(
                id=pid,
                name=name,
                jurisdiction=jurisdiction,  # type: ignore[arg-type]
                roles=("importer",),
                signing_key=sign,
                hpke_key=hpke,
            )
        )
    for (pid, name, jurisdiction), role in ((REGULATOR, "regulator"), (OPERATOR, "operator")):
        sign, hpke = keys[pid]
        out.append(
            Participant(
                id=pid,
                name=name,
                jurisdiction=jurisdiction,  # type: ignore[arg-type]
                roles=(role,),  # type: ignore[arg-type]
                signing_key=sign,
                hpke_key=hpke,
            )
        )
    return out


def all_participant_ids() -> list[str]:
    return [*EXPORTERS, *IMPORTERS, REGULATOR[0], OPERATOR[0]]
