"""Fixtures of the registry tests: the API tests' cast on a fresh hub, plus a participant
holding both trade roles and a deactivated exporter (for the agreement rules), an agreement
that already ended and two filings (for ending and withdrawing)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import msgspec
import pytest
from api.cast import NOW, PRODUCT, PURPOSE, Env, make_participant, serve_cast

from silkgate.model import Agreement, Filing
from silkgate.seal.keys import create_keyring

# cn-exporter -> vn-importer, last day 2026-03-31
ENDED = Agreement(
    id="agr-ended",
    exporter="cn-exporter",
    importer="vn-importer",
    product=PRODUCT,
    purpose=PURPOSE,
    instrument="contract_necessity",
    valid_from=date(2026, 1, 1),
    valid_until=date(2026, 3, 31),
)
FILINGS = (
    # open-ended (a standard contract has no default validity)
    Filing(
        id="fil-sc",
        exporter="cn-exporter",
        kind="standard_contract",
        recipient="vn-importer",
        valid_from=date(2026, 1, 1),
    ),
    # no end date, but a security assessment lasts 3 years: last day 2026-05-31
    Filing(
        id="fil-sa",
        exporter="cn-exporter",
        kind="security_assessment",
        recipient="vn-importer",
        valid_from=date(2023, 6, 1),
    ),
)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with serve_cast(tmp_path) as made:
        store = made.hub.store
        dual = make_participant(
            "cn-dual", create_keyring("cn-dual", NOW), "CN", ("exporter", "importer")
        )
        inactive = make_participant(
            "cn-inactive", create_keyring("cn-inactive", NOW), "CN", ("exporter",)
        )
        with store.transaction():
            store.put_participant(dual)
            store.put_participant(msgspec.structs.replace(inactive, active=False))
            store.put_agreement(ENDED)
            for filing in FILINGS:
                store.put_filing(filing)
        yield made
