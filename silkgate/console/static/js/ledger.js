// Offline checks of the hub's transparency log, in the browser (docs/ledger.md):
// RFC 9162 inclusion proofs (SHA-256 via WebCrypto), C2SP signed notes and checkpoints
// (Ed25519 note signatures, type 0x01) and tlog cosignatures (cosignature/v1, type 0x04).
// Every check throws a VerificationError with a message a person can act on.

import { b64decode, concat, equal, hex, sha256, utf8 } from "./bytes.js";

export const BUNDLE_FORMAT = "silkgate-proof-bundle/v1";
const ED25519 = 0x01;
const COSIGNATURE_V1 = 0x04;
const DASH = "\u2014 ";

export class VerificationError extends Error {}

const fail = (message) => {
  throw new VerificationError(message);
};

export const leafHash = async (entry) => sha256(concat(new Uint8Array([0]), entry));
export const nodeHash = async (left, right) => sha256(concat(new Uint8Array([1]), left, right));

/** RFC 9162 §2.1.3.2: check that `leaf` is leaf `index` of the tree of `size` with `root`. */
export async function verifyInclusion(leaf, index, size, proof, root) {
  for (const h of [leaf, root, ...proof]) {
    if (h.length !== 32) fail("a hash in the proof is not 32 bytes");
  }
  if (!(index >= 0 && index < size)) fail(`index ${index} is outside a tree of size ${size}`);
  // BigInt keeps the bit arithmetic right beyond 2^31 leaves.
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) fail("the inclusion proof is longer than the tree is deep");
    if (fn & 1n || fn === sn) {
      r = await nodeHash(p, r);
      while (!(fn & 1n) && fn) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) fail("the inclusion proof is shorter than the tree is deep");
  if (!equal(r, root)) {
    fail(`the inclusion proof for index ${index} does not lead to the root of size ${size}`);
  }
}

async function keyId(name, type, publicKey) {
  return (await sha256(concat(utf8(`${name}\n`), new Uint8Array([type]), publicKey))).slice(0, 4);
}

function checkName(name) {
  if (!name || /[\s+]/.test(name)) fail(`key name ${JSON.stringify(name)} is empty or has spaces or '+'`);
}

/** Parse a verifier key <name>+<hex key id>+<base64(type || key)>; the key id must match. */
export async function parseVkey(vkey) {
  const parts = String(vkey).trim().split("+");
  if (parts.length < 3) fail("a verifier key has the form <name>+<hex id>+<base64 key>");
  const [name, hexId] = parts;
  const material = parts.slice(2).join("+");
  checkName(name);
  let raw;
  try {
    raw = b64decode(material, "verifier key");
  } catch {
    fail("the verifier key is not valid base64");
  }
  if (raw.length !== 33 || (raw[0] !== ED25519 && raw[0] !== COSIGNATURE_V1)) {
    fail("the verifier key is not an Ed25519 key (type 0x01 or 0x04)");
  }
  const verifier = { name, type: raw[0], publicKey: raw.slice(1) };
  verifier.keyId = await keyId(name, verifier.type, verifier.publicKey);
  if (hex(verifier.keyId) !== hexId.toLowerCase()) fail(`the verifier key for ${name} has a wrong key ID`);
  return verifier;
}

async function ed25519Verify(publicKey, signature, message) {
  let key;
  try {
    key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  } catch {
    return false;
  }
}

/** Split a signed note into its text (ending in a newline) and its signature lines. */
export function parseNote(note) {
  const cut = note.lastIndexOf("\n\n");
  if (cut < 0) fail("a signed note needs a blank line before its signatures");
  const text = note.slice(0, cut + 1);
  const sigs = note.slice(cut + 2);
  if ([...text].some((c) => c < " " && c !== "\n")) fail("the note text holds control characters");
  if (!sigs.endsWith("\n")) fail("the signature lines must end in a newline");
  const signatures = sigs
    .slice(0, -1)
    .split("\n")
    .map((line) => {
      if (!line.startsWith(DASH)) fail("a signature line starts with an em dash and a space");
      const rest = line.slice(DASH.length);
      const space = rest.lastIndexOf(" ");
      const name = rest.slice(0, space);
      checkName(name);
      let raw;
      try {
        raw = b64decode(rest.slice(space + 1), "signature");
      } catch {
        fail(`the signature by ${name} is not base64`);
      }
      if (raw.length < 5) fail(`the signature by ${name} is too short`);
      return { name, keyId: raw.slice(0, 4), signature: raw.slice(4) };
    });
  return { text, signatures };
}

/** (origin, size, root) of a checkpoint body (c2sp.org/tlog-checkpoint). */
export function parseCheckpointText(text) {
  const lines = text.split("\n");
  if (lines.length < 4 || lines[lines.length - 1] !== "" || lines.slice(0, -1).some((l) => !l)) {
    fail("a checkpoint body has at least three non-empty lines");
  }
  const [origin, sizeLine, rootLine] = lines;
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine)) fail(`checkpoint size ${sizeLine} is not a decimal number`);
  let root;
  try {
    root = b64decode(rootLine, "root hash");
  } catch {
    fail("the checkpoint root hash is not base64");
  }
  if (root.length !== 32) fail("the checkpoint root hash is not 32 bytes");
  return { origin, size: Number(sizeLine), root };
}

/** Verify a checkpoint note with the log's key (its name is the origin) and parse it. */
export async function openCheckpoint(note, logKey) {
  const parsed = parseNote(note);
  const verifier = typeof logKey === "string" ? await parseVkey(logKey) : logKey;
  if (verifier.type !== ED25519) fail("the log key is not a note-signing key (type 0x01)");
  const mine = parsed.signatures.filter(
    (s) => s.name === verifier.name && equal(s.keyId, verifier.keyId),
  );
  if (!mine.length) fail(`the checkpoint carries no signature by the log key (${verifier.name})`);
  for (const s of mine) {
    if (!(await ed25519Verify(verifier.publicKey, s.signature, utf8(parsed.text)))) {
      fail(`the checkpoint signature by ${verifier.name} does not verify: the note was altered`);
    }
  }
  const cp = parseCheckpointText(parsed.text);
  if (cp.origin !== verifier.name) {
    fail(`checkpoint origin ${cp.origin} is not the log's name ${verifier.name}`);
  }
  return { ...cp, note: parsed };
}

/** Verify one witness's cosignature (type 0x04) on a parsed note; returns its time (s). */
export async function verifyCosignature(note, cosigner) {
  const verifier = typeof cosigner === "string" ? await parseVkey(cosigner) : cosigner;
  if (verifier.type !== COSIGNATURE_V1) fail(`${verifier.name} is not a cosigner key (type 0x04)`);
  const sig = note.signatures.find(
    (s) => s.name === verifier.name && equal(s.keyId, verifier.keyId),
  );
  if (!sig) fail(`the checkpoint is not cosigned by ${verifier.name}`);
  if (sig.signature.length !== 72) fail(`the cosignature by ${verifier.name} has the wrong length`);
  const view = new DataView(sig.signature.buffer, sig.signature.byteOffset, 8);
  const timestamp = view.getBigUint64(0);
  const message = concat(utf8(`cosignature/v1\ntime ${timestamp}\n`), utf8(note.text));
  if (!(await ed25519Verify(verifier.publicKey, sig.signature.slice(8), message))) {
    fail(`the cosignature by ${verifier.name} does not verify`);
  }
  return Number(timestamp);
}

/** Parse a proof bundle (JSON text or object); throws on a malformed one. */
export function parseBundle(data) {
  let doc = data;
  if (typeof data === "string") {
    try {
      doc = JSON.parse(data);
    } catch {
      fail("this is not JSON: paste or choose a silkgate proof bundle");
    }
  }
  if (!doc || typeof doc !== "object" || doc.format !== BUNDLE_FORMAT) {
    fail(`this is not a proof bundle (format ${BUNDLE_FORMAT})`);
  }
  const int = (v, what) => (Number.isSafeInteger(v) && v >= 0 ? v : fail(`${what} is not an integer`));
  const str = (v, what) => (typeof v === "string" ? v : fail(`${what} is not a string`));
  const bytes = (v, what) => {
    try {
      return b64decode(str(v, what), what);
    } catch (e) {
      return fail(e instanceof VerificationError ? e.message : `${what} is not valid base64`);
    }
  };
  if (!Array.isArray(doc.inclusion_proof)) fail("the inclusion_proof is not a list");
  return {
    origin: str(doc.origin, "origin"),
    index: int(doc.index, "index"),
    treeSize: int(doc.tree_size, "tree_size"),
    entry: bytes(doc.entry, "entry"),
    leafHash: doc.leaf_hash === undefined ? null : bytes(doc.leaf_hash, "leaf_hash"),
    proof: doc.inclusion_proof.map((h, i) => bytes(h, `inclusion_proof[${i}]`)),
    checkpoint: str(doc.checkpoint, "checkpoint"),
  };
}

/**
 * Check a proof bundle as silkgate.ledger.bundle.verify_bundle does: the checkpoint's
 * Ed25519 signature by the log key, origin and size, then the RFC 9162 inclusion proof.
 * Returns {origin, index, size, root, entry (parsed JSON or null)}.
 */
export async function verifyBundle(data, logKey, { witnessKeys = [] } = {}) {
  const bundle = parseBundle(data);
  const leaf = await leafHash(bundle.entry);
  if (bundle.leafHash && !equal(bundle.leafHash, leaf)) {
    fail("the bundle's leaf_hash is not the hash of its entry: the entry was altered");
  }
  const cp = await openCheckpoint(bundle.checkpoint, logKey);
  if (cp.origin !== bundle.origin) {
    fail(`the bundle is for log ${bundle.origin}, the checkpoint for ${cp.origin}`);
  }
  if (cp.size !== bundle.treeSize) {
    fail(
      `the bundle proves inclusion in a tree of size ${bundle.treeSize}, the checkpoint is ` +
        `for size ${cp.size}`,
    );
  }
  await verifyInclusion(leaf, bundle.index, bundle.treeSize, bundle.proof, cp.root);
  const witnesses = {};
  for (const w of witnessKeys) {
    const v = await parseVkey(w);
    witnesses[v.name] = await verifyCosignature(cp.note, v);
  }
  let entry = null;
  try {
    entry = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bundle.entry));
  } catch {
    entry = null;
  }
  return { origin: cp.origin, index: bundle.index, size: cp.size, root: cp.root, entry, witnesses };
}
