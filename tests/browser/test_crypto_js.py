"""The console's JavaScript crypto, run in Chromium on fixed inputs and checked in Python:
the RFC 9421 signer against the SDK's signer (byte for byte: Ed25519 is deterministic), our
verifier and the independent http-message-signatures library; canonical JSON against
silkgate.canonical; key-file import (non-extractable, the right key id, bad files refused);
and the RFC 9162 / signed-note verifier against the Python reference on real proofs."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    algorithms,
)

from browser.helpers import open_console
from browser.world import EXPORTER, World
from silkgate.canonical import canonical_json
from silkgate.errors import AuthError
from silkgate.ledger.bundle import ProofBundle
from silkgate.ledger.checkpoint import verifier_for
from silkgate.ledger.merkle import inclusion_proof, leaf_hash, root_of
from silkgate.seal.httpsig import DEFAULT_COMPONENTS, sign_request, verify_request
from silkgate.seal.keys import create_keyring, keyring_to_json

SEED = bytes(range(1, 33))
NOW = 1_790_000_000
NONCE = "fixed-nonce_0123456789ab"


def _ring_json(participant: str = "cn-test", seed: bytes = SEED) -> str:
    draws = iter([seed, bytes(32)])
    ring = create_keyring(
        participant, datetime(2026, 1, 1, tzinfo=UTC), random=lambda n: next(draws)
    )
    return keyring_to_json(ring).decode()


SIGN_JS = """async ([ring, method, url, headers, body, now, nonce]) => {
  const { importKeyFile } = await import('/console/js/keys.js');
  const { signRequest } = await import('/console/js/signer.js');
  const { utf8 } = await import('/console/js/bytes.js');
  const id = await importKeyFile(ring);
  return await signRequest(
    { method, url, headers, body: utf8(body), key: id.key, keyId: id.keyId, now, nonce });
}"""


def _js_sign(
    page: Any, method: str, url: str, headers: dict[str, str], body: str, now: int = NOW
) -> dict[str, str]:
    args = [_ring_json(), method, url, headers, body, now, NONCE]
    signed: dict[str, str] = page.evaluate(SIGN_JS, args)
    return signed


@pytest.mark.parametrize(
    ("method", "path", "headers", "body"),
    [
        ("GET", "/v1/batches?limit=20&offset=40&exporter=cn%3Aa", {}, ""),
        ("POST", "/v1/batches", {"Idempotency-Key": "k-1", "Content-Type": "application/json"},
         '{"importer":"vn","records":[{"n":"Nguyễn Văn A"}]}'),
        ("DELETE", "/v1/mailbox/push", {}, ""),
    ],
)  # fmt: skip
def test_the_browser_signs_exactly_as_the_sdk(
    page: Any, world: World, method: str, path: str, headers: dict[str, str], body: str
) -> None:
    open_console(page, world.url)
    url = world.url + path
    browser = _js_sign(page, method, url, headers, body)
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    key_id = json.loads(_ring_json())["signing"][0]["key_id"]
    components = DEFAULT_COMPONENTS
    if "Idempotency-Key" in headers:
        components = (*DEFAULT_COMPONENTS, "idempotency-key")
    sdk = sign_request(
        method, url, headers, body.encode(), key, key_id,
        datetime.fromtimestamp(NOW, UTC), NONCE, 60, components=components,
    )  # fmt: skip
    assert browser == sdk
    # Our verifier accepts it, and refuses it once the body or the target changes.
    all_headers = {**headers, **browser}
    seen: set[str] = set()

    def nonce_seen(nonce: str, _: int) -> bool:
        if nonce in seen:
            return True
        seen.add(nonce)
        return False

    at = datetime.fromtimestamp(NOW + 5, UTC)
    resolve = {key_id: key.public_key()}.__getitem__
    assert (
        verify_request(method, url, all_headers, body.encode(), resolve, at, nonce_seen) == key_id
    )
    with pytest.raises(AuthError):
        verify_request(
            method, url + "&x=1", all_headers, body.encode(), resolve, at, lambda *_: False
        )
    with pytest.raises(AuthError):
        verify_request(
            method, url, all_headers, body.encode() + b" ", resolve, at, lambda *_: False
        )


class _Public(HTTPSignatureKeyResolver):
    def resolve_public_key(self, key_id: str) -> object:
        return Ed25519PrivateKey.from_private_bytes(SEED).public_key()

    def resolve_private_key(self, key_id: str) -> object:
        raise KeyError(key_id)


def test_an_independent_rfc_9421_library_verifies_the_browsers_signature(
    page: Any, world: World
) -> None:
    open_console(page, world.url)
    url = world.url + "/v1/batches/check?dry=1"
    body = '{"importer":"vn-hanoi-carrier","records":[]}'
    now = int(time.time())  # the library checks freshness against its own clock
    signed = _js_sign(page, "POST", url, {"Content-Type": "application/json"}, body, now)
    prepared = requests.Request(
        "POST", url, data=body.encode(), headers={"Content-Type": "application/json", **signed}
    ).prepare()
    verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519, key_resolver=_Public())
    results = verifier.verify(prepared, max_age=timedelta(days=3650))
    assert [r.parameters["nonce"] for r in results] == [NONCE]
    covered = list(results[0].covered_components)
    assert covered[:3] == ['"@method"', '"@target-uri"', '"content-digest"']
    prepared.headers["Signature"] = prepared.headers["Signature"].replace(
        signed["Signature"][6:10], "AAAA"
    )
    with pytest.raises((InvalidSignature, HTTPMessageSignaturesException)):
        verifier.verify(prepared, max_age=timedelta(days=3650))


def test_canonical_json_matches_silkgate_canonical(page: Any, world: World) -> None:
    open_console(page, world.url)
    values = [
        {"b": 1, "a": [1.5, True, None, "x"], "c": {"z": "é 中 😀", "y": 'q"\\\n\t\x01\x7f'}},
        {"action": "silkgate.holds.release", "envelope_id": "env_1", "reason": " ok ", "by": "r"},
        ["\u2028", "</script>", "", 0, -12, 10**15],
    ]
    out = page.evaluate(
        "async (vs) => { const { canonicalJson } = await import('/console/js/bytes.js');"
        " return vs.map(canonicalJson); }",
        values,
    )
    assert [o.encode() for o in out] == [canonical_json(v) for v in values]


IMPORT_JS = """async (text) => {
  const { importKeyFile } = await import('/console/js/keys.js');
  try {
    const id = await importKeyFile(text);
    let exported = 'exported';
    try { await crypto.subtle.exportKey('pkcs8', id.key); } catch (e) { exported = e.name; }
    return { ok: true, participant: id.participant, keyId: id.keyId,
             extractable: id.key.extractable, usages: id.key.usages, exported };
  } catch (e) { return { ok: false, error: e.message }; }
}"""


def test_a_key_file_imports_as_a_non_extractable_signing_key(page: Any, world: World) -> None:
    open_console(page, world.url)
    text = world.key_file(EXPORTER).read_text()
    got = page.evaluate(IMPORT_JS, text)
    ring = json.loads(text)
    assert got == {
        "ok": True, "participant": EXPORTER, "keyId": ring["signing"][-1]["key_id"],
        "extractable": False, "usages": ["sign"], "exported": "InvalidAccessError",
    }  # fmt: skip


def test_bad_key_files_are_refused_with_a_reason(page: Any, world: World) -> None:
    open_console(page, world.url)
    good = json.loads(_ring_json())
    swapped = json.loads(_ring_json())
    swapped["signing"][0]["public"] = base64.b64encode(
        Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    ).decode()
    mismatched = json.loads(_ring_json())  # id and public key agree; the private key is another
    mismatched["signing"][0]["private"] = base64.b64encode(bytes(32)).decode()
    revoked = {**good, "revoked": [good["signing"][0]["key_id"]]}
    expired = json.loads(_ring_json())
    expired["signing"][0]["not_after"] = "2026-02-01T00:00:00Z"
    later = json.loads(_ring_json())
    later["signing"][0]["not_before"] = _iso(datetime.now(UTC) + timedelta(hours=1))
    cases = {
        "not json": "not JSON",
        json.dumps({"version": 2}): "not a silkgate key file",
        json.dumps(swapped): "does not match its public key",
        json.dumps(mismatched): "private key of",
        json.dumps(revoked): "no valid signing key",
        json.dumps(expired): "no valid signing key",
        json.dumps(later): "no valid signing key",
    }
    for text, reason in cases.items():
        got = page.evaluate(IMPORT_JS, text)
        assert got["ok"] is False and reason in got["error"], (reason, got)


def test_a_key_made_a_moment_ago_imports(page: Any, world: World) -> None:
    """The console's clock is the hub's Date header (whole seconds): a key whose validity
    starts a few seconds ahead of it still imports; the hub judges validity itself."""
    open_console(page, world.url)
    fresh = json.loads(_ring_json())
    fresh["signing"][0]["not_before"] = _iso(datetime.now(UTC) + timedelta(seconds=5))
    got = page.evaluate(IMPORT_JS, json.dumps(fresh))
    assert got["ok"] is True, got


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _bundle(world: World) -> dict[str, Any]:
    with world.client(EXPORTER) as client:
        batch = client.list_batches().batches[0]
        assert batch.ledger_index is not None
        return client.proof_bundle(batch.ledger_index).to_dict()


VERIFY_JS = """async ([bundle, key]) => {
  const { verifyBundle } = await import('/console/js/ledger.js');
  try {
    const r = await verifyBundle(bundle, key);
    return { ok: true, index: r.index, size: r.size, kind: r.entry && r.entry.kind };
  }
  catch (e) { return { ok: false, error: e.message, type: e.constructor.name }; }
}"""


def _tamper(bundle: dict[str, Any], field: str, value: Any) -> str:
    return json.dumps({**bundle, field: value})


def test_the_bundle_verifier_accepts_a_real_bundle_and_refuses_each_tampering(
    page: Any, world: World
) -> None:
    open_console(page, world.url)
    bundle = _bundle(world)
    log_key = requests.get(world.url + "/v1/hub", timeout=10).json()["log_key"]
    ProofBundle.from_dict(bundle)  # the Python reference agrees it is well formed
    ok = page.evaluate(VERIFY_JS, [json.dumps(bundle), log_key])
    assert ok == {
        "ok": True,
        "index": bundle["index"],
        "size": bundle["tree_size"],
        "kind": "batch",
    }

    entry = bytearray(base64.b64decode(bundle["entry"]))
    entry[10] ^= 1
    proof = list(bundle["inclusion_proof"])
    proof[0] = base64.b64encode(bytes(32)).decode()
    note = bundle["checkpoint"]
    lines = note.split("\n")
    lines[1] = str(int(lines[1]) + 1)
    other_log = Ed25519PrivateKey.generate()
    wrong_key = verifier_for(bundle["origin"], other_log).vkey()
    no_leaf_hash = {k: v for k, v in bundle.items() if k != "leaf_hash"}
    altered = base64.b64encode(bytes(entry)).decode()
    cases = {
        _tamper(bundle, "entry", altered): "leaf_hash",
        _tamper(no_leaf_hash, "entry", altered): "does not lead to the root",
        _tamper(bundle, "inclusion_proof", proof): "does not lead to the root",
        _tamper(bundle, "inclusion_proof", proof[:-1]): "shorter than the tree is deep",
        _tamper(bundle, "index", bundle["index"] - 1): "does not lead to the root",
        _tamper(bundle, "index", bundle["tree_size"]): "outside a tree",
        _tamper(bundle, "tree_size", bundle["tree_size"] + 1): "tree of size",
        _tamper(bundle, "checkpoint", "\n".join(lines)): "does not verify",
        _tamper(bundle, "format", "something/v0"): "not a proof bundle",
        "{ not json": "not JSON",
    }  # fmt: skip
    for text, reason in cases.items():
        got = page.evaluate(VERIFY_JS, [text, log_key])
        assert got["ok"] is False and reason in got["error"], (reason, got)
        assert got["type"] == "VerificationError"
    got = page.evaluate(VERIFY_JS, [json.dumps(bundle), wrong_key])
    assert got["ok"] is False and "no signature by the log key" in got["error"]


def test_inclusion_proofs_agree_with_the_python_merkle_code(page: Any, world: World) -> None:
    """Every leaf of trees of 1..17 leaves: the JS verifier accepts the proof the Python
    code makes, and refuses it for the neighbouring index."""
    open_console(page, world.url)
    cases = []
    for size in range(1, 18):
        leaves = [leaf_hash(f"entry {i}".encode()) for i in range(size)]
        root = root_of(leaves)
        nodes = _node_reader(leaves)
        for index in range(size):
            proof = inclusion_proof(index, size, nodes)
            cases.append([_b64(leaves[index]), index, size, [_b64(p) for p in proof], _b64(root)])
    out = page.evaluate(
        """async (cases) => {
          const { verifyInclusion } = await import('/console/js/ledger.js');
          const { b64decode } = await import('/console/js/bytes.js');
          const res = [];
          for (const [leaf, index, size, proof, root] of cases) {
            const args = (i) =>
              [b64decode(leaf), i, size, proof.map((p) => b64decode(p)), b64decode(root)];
            let good = true, bad = true;
            try { await verifyInclusion(...args(index)); } catch { good = false; }
            if (size === 1) bad = false;
            else try { await verifyInclusion(...args((index + 1) % size)); } catch { bad = false; }
            res.push([good, bad]);
          }
          return res;
        }""",
        cases,
    )
    assert out == [[True, False]] * len(cases)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _node_reader(leaves: list[bytes]) -> Any:
    def read(keys: Any) -> dict[Any, bytes]:
        # A node key is (level, index): the perfect subtree of 2**level leaves from
        # index * 2**level.
        return {
            (level, index): root_of(leaves[index << level : (index + 1) << level])
            for level, index in keys
        }

    return read


VECTORS = Path(__file__).parent.parent / "vectors" / "console" / "proof-bundles.json"


def test_the_bundle_verifier_passes_the_proof_bundle_vectors(page: Any, world: World) -> None:
    """tests/vectors/console/proof-bundles.json (made from a demo hub by the server side):
    every valid bundle verifies, and is refused against the wrong log key; every tampered
    one is refused."""
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))
    open_console(page, world.url)
    for bundle in vectors["valid"]:
        got = page.evaluate(VERIFY_JS, [json.dumps(bundle), vectors["log_key"]])
        assert got["ok"] is True and got["index"] == bundle["index"], got
        wrong = page.evaluate(VERIFY_JS, [json.dumps(bundle), vectors["wrong_log_key"]])
        assert wrong["ok"] is False and wrong["type"] == "VerificationError", wrong
    assert len(vectors["invalid"]) >= 5
    for case in vectors["invalid"]:
        got = page.evaluate(VERIFY_JS, [json.dumps(case["bundle"]), vectors["log_key"]])
        assert got["ok"] is False and got["type"] == "VerificationError", (case["name"], got)
