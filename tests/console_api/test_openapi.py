"""The OpenAPI document behind /docs describes the RFC 9421 signature as its security
scheme and applies it to every signed route, never to a public one; the console's routes
and answers are documented."""

from __future__ import annotations

from api.cast import Env

from silkgate.api.openapi import PUBLIC_PATHS, SIGNATURE_SCHEME

SIGNED_LEDGER = {"/v1/ledger/proof/bundle"}  # entries are for their parties and regulators


def test_the_scheme_says_how_to_sign(env: Env) -> None:
    doc = env.http.get("/openapi.json").json()
    scheme = doc["components"]["securitySchemes"][SIGNATURE_SCHEME]
    assert scheme["type"] == "apiKey" and scheme["in"] == "header"
    for needle in ("RFC 9421", "Signature-Input", "Content-Digest", "ed25519", "keyid", "nonce"):
        assert needle in scheme["description"], needle


def test_signed_routes_carry_it_and_public_ones_do_not(env: Env) -> None:
    doc = env.http.get("/openapi.json").json()
    public = signed = 0
    for path, operations in doc["paths"].items():
        for operation in operations.values():
            if path in PUBLIC_PATHS:
                assert operation["security"] == [], path
                assert not {"401", "403"} & set(operation["responses"]), path
                public += 1
            else:
                assert operation["security"] == [{SIGNATURE_SCHEME: []}], path
                if not path.startswith("/v1/ledger/") or path in SIGNED_LEDGER:
                    assert "401" in operation["responses"], path
                signed += 1
    assert public >= 10 and signed >= 40
    # the console's pages and assets are not API operations
    assert not {p for p in doc["paths"] if p in ("/", "/docs") or p.startswith("/console")}


def test_console_answers_are_documented(env: Env) -> None:
    doc = env.http.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    for name in (
        "CheckpointView",
        "SignatureView",
        "LedgerHistory",
        "CorridorReport",
        "RuleReport",
        "FiredRuleCount",
        "FlowCount",
        "SizePoint",
    ):
        assert name in schemas, name
    corridors = doc["paths"]["/v1/console/corridors"]["get"]
    assert corridors["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CorridorReport"
    }
    assert {"403", "422"} <= set(corridors["responses"])
    names = {p["name"] for p in corridors["parameters"]}
    assert {"since", "until", "exporter", "importer", "limit", "offset"} <= names
