"""EPCIS 2.0 documents carry no personal data: no person, phone, email, ID, passport or card
finding may come out of them, with or without the EPCIS product's hints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from silkgate.classify import Classifier
from silkgate.demo.synth import EPCIS_EVENT_TYPES
from silkgate.products import get_product
from silkgate.records_io import read_records

DOC = Path(__file__).parent.parent / "vectors" / "classify" / "epcis_all_events.json"
FORBIDDEN = {"person_name", "phone", "email", "national_id", "passport", "bank_card"}
OPTIONAL_FIELDS = {
    "eventID",
    "recordTime",
    "action",
    "bizStep",
    "disposition",
    "readPoint",
    "bizLocation",
    "bizTransactionList",
    "sourceList",
    "destinationList",
    "sensorElementList",
    "ilmd",
    "persistentDisposition",
    "certificationInfo",
    "errorDeclaration",
    "quantityList",
    "childQuantityList",
    "inputQuantityList",
    "outputQuantityList",
    "transformationID",
    "parentID",
    "childEPCs",
    "epcList",
    "inputEPCList",
    "outputEPCList",
}


def test_document_covers_every_event_type_and_optional_field() -> None:
    events = read_records(DOC)
    assert {e["type"] for e in events} == set(EPCIS_EVENT_TYPES)
    present = {k for e in events for k in e}
    assert present >= OPTIONAL_FIELDS
    doc = json.loads(DOC.read_text("utf-8"))
    assert doc["type"] == "EPCISDocument" and doc["schemaVersion"] == "2.0"


@pytest.mark.parametrize("product", [None, "logistics.epcis-event"])
def test_no_personal_findings(product: str | None) -> None:
    clf = Classifier(get_product(product) if product else None)
    for event in read_records(DOC):
        types = {f.type for f in clf.classify(event).findings}
        assert not types & FORBIDDEN, (event["type"], types)


def test_events_validate_against_the_epcis_product() -> None:
    product = get_product("logistics.epcis-event")
    for i, event in enumerate(read_records(DOC)):
        product.validate(event, index=i)
