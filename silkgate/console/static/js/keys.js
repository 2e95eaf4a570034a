// The participant key file (silkgate keygen / the demo's participant-keys/*.json, format in
// silkgate/seal/keys.py): its current Ed25519 signing key is imported with WebCrypto as a
// NON-extractable CryptoKey. The HPKE keys and the raw seed are dropped at once; the
// CryptoKey lives in memory, or in IndexedDB when the user asks to be remembered.

import { b64decode, concat, hex, sha256, utf8 } from "./bytes.js";

// PKCS#8 PrivateKeyInfo for an Ed25519 seed (RFC 8410): this prefix then the 32-byte seed.
const PKCS8_ED25519 = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

export class KeyFileError extends Error {}

// The console's clock is the hub's Date header, to the second: a key made moments ago (e.g.
// by `silkgate keygen` just now) may start a second "in the future". The hub judges the
// key's validity itself; here a minute's tolerance keeps such a key usable.
const NOT_BEFORE_SKEW_MS = 60_000;

function parseTime(value, what) {
  if (value === null || value === undefined) return null;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new KeyFileError(`${what} is not a date: ${value}`);
  return t;
}

/** The newest valid, unrevoked signing entry (as KeyRing.current_signing). */
export function currentSigningEntry(ring, now = Date.now()) {
  if (!ring || typeof ring !== "object" || ring.version !== 1 || !Array.isArray(ring.signing)) {
    throw new KeyFileError("this is not a silkgate key file (version 1 with signing keys)");
  }
  if (typeof ring.participant !== "string" || !ring.participant) {
    throw new KeyFileError("the key file names no participant");
  }
  const revoked = new Set(Array.isArray(ring.revoked) ? ring.revoked : []);
  const usable = ring.signing.filter((e) => {
    if (!e || e.algorithm !== "ed25519" || revoked.has(e.key_id)) return false;
    const from = parseTime(e.not_before, "not_before");
    const until = parseTime(e.not_after, "not_after");
    return from !== null && from - NOT_BEFORE_SKEW_MS <= now && (until === null || now <= until);
  });
  if (!usable.length) {
    throw new KeyFileError(
      "no valid signing key in this file: all are expired, revoked or not yet valid " +
        "(add fresh keys with `silkgate participant rotate-keys`, or make a new key file with " +
        "`silkgate keygen` and have the operator register its public part)",
    );
  }
  return usable.reduce((a, b) => (parseTime(b.not_before) > parseTime(a.not_before) ? b : a));
}

/**
 * Parse a key file's text and import its current signing key.
 * Returns {participant, keyId, key (CryptoKey, non-extractable), publicKey (raw bytes)}.
 */
export async function importKeyFile(text, now = Date.now()) {
  let ring;
  try {
    ring = JSON.parse(text);
  } catch {
    throw new KeyFileError("the file is not JSON: choose your silkgate key file (.json)");
  }
  const entry = currentSigningEntry(ring, now);
  const seed = b64decode(entry.private, "the private key");
  const publicKey = b64decode(entry.public, "the public key");
  try {
    if (seed.length !== 32 || publicKey.length !== 32) {
      throw new KeyFileError("an Ed25519 key has 32 bytes");
    }
    const wantedId = `ed25519:${hex(await sha256(publicKey)).slice(0, 16)}`;
    if (wantedId !== entry.key_id) {
      throw new KeyFileError(`signing key ${entry.key_id} does not match its public key`);
    }
    const key = await crypto.subtle.importKey(
      "pkcs8",
      concat(PKCS8_ED25519, seed),
      { name: "Ed25519" },
      false, // non-extractable: no script can read the key back out
      ["sign"],
    );
    await checkPair(key, publicKey, entry.key_id);
    return { participant: ring.participant, keyId: entry.key_id, key, publicKey };
  } finally {
    seed.fill(0); // the raw seed is not kept; the HPKE keys were never read
    ring.signing = ring.hpke = null;
  }
}

async function checkPair(key, publicKey, keyId) {
  const probe = utf8(`silkgate console key check ${keyId}`);
  const sig = await crypto.subtle.sign({ name: "Ed25519" }, key, probe);
  const pub = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, true, [
    "verify",
  ]);
  if (!(await crypto.subtle.verify({ name: "Ed25519" }, pub, sig, probe))) {
    throw new KeyFileError(`the private key of ${keyId} does not match its public key`);
  }
}

// --- "remember on this device": IndexedDB holds the CryptoKey (still non-extractable) ---

const DB = "silkgate-console";
const STORE = "identity";

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function withStore(mode, fn) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

export const rememberIdentity = (identity) =>
  withStore("readwrite", (s) =>
    s.put(
      {
        participant: identity.participant,
        keyId: identity.keyId,
        key: identity.key,
        publicKey: identity.publicKey,
      },
      "current",
    ),
  );

export const recallIdentity = () => withStore("readonly", (s) => s.get("current"));

export const forgetIdentity = () => withStore("readwrite", (s) => s.delete("current"));

