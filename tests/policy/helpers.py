"""Building blocks for policy tests: participants, contexts, findings, counter views."""

from __future__ import annotations

from datetime import date
from typing import cast

from silkgate.model import Agreement, Filing, Finding, FindingType, Participant
from silkgate.policy import BatchContext, RecordInput

KEY = b"test-subject-key"
DAY = date(2026, 6, 1)
STRICTNESS = {"allow": 0, "allow_transformed": 1, "hold": 2, "deny": 3}
PATHS = {
    "person_name": "$['consignee']['name']",
    "phone": "$['consignee']['phone']",
    "address": "$['consignee']['address']",
    "national_id": "$['consignee']['id_number']",
}


def exporter(jurisdiction: str = "CN", *, ciio: bool = False) -> Participant:
    return Participant(id="exp", name="Exporter", jurisdiction=jurisdiction, roles=("exporter",),  # type: ignore[arg-type]
                       ciio=ciio)  # fmt: skip


def importer(jurisdiction: str = "VN") -> Participant:
    return Participant(id="imp", name="Importer", jurisdiction=jurisdiction, roles=("importer",))  # type: ignore[arg-type]


def context(
    *,
    purpose: str = "marketing",
    product: str = "logistics.waybill",
    filings: tuple[str, ...] = (),
    on: date = DAY,
    origin: str = "CN",
    destination: str = "VN",
    ciio: bool = False,
    agreement: bool = True,
    instrument: str = "other",
) -> BatchContext:
    exp, imp = exporter(origin, ciio=ciio), importer(destination)
    agr = Agreement(id="agr", exporter=exp.id, importer=imp.id, product=product, purpose=purpose,  # type: ignore[arg-type]
                    instrument=instrument, valid_from=date(2020, 1, 1)) if agreement else None  # type: ignore[arg-type]  # fmt: skip
    fil = tuple(Filing(id=f"f-{k}", exporter=exp.id, kind=k, recipient=imp.id,  # type: ignore[arg-type]
                       valid_from=date(2020, 1, 1)) for k in filings)  # fmt: skip
    return BatchContext(exp, imp, product, purpose, agr, fil, on)


def record(*types: str, subject: str | None = None) -> RecordInput:
    findings = tuple(
        Finding(path=PATHS.get(t, f"$['{t}']"), type=cast(FindingType, t), detector="test")
        for t in types
    )
    subjects = (subject,) if subject else ()
    return RecordInput(findings, subjects)
