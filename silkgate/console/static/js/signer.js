// RFC 9421 HTTP Message Signatures (Ed25519) with RFC 9530 Content-Digest, signed exactly
// as the Python SDK signs (silkgate/client.py RequestSigner, silkgate/seal/httpsig.py):
// covered components "@method" "@target-uri" "content-digest" (+ "idempotency-key" when the
// request carries one), parameters created, expires (created + 60 s), nonce (24 base64url
// characters), keyid and alg="ed25519", label sig1.

import { b64encode, randomToken, sha256, utf8 } from "./bytes.js";

export const DEFAULT_COMPONENTS = ["@method", "@target-uri", "content-digest"];
export const SIGNATURE_TTL = 60;
export const LABEL = "sig1";

/** The Content-Digest field value: sha-256=:<base64>: (RFC 9530). */
export async function contentDigest(body) {
  return `sha-256=:${b64encode(await sha256(body))}:`;
}

/** An RFC 8941 sf-string (printable ASCII only). */
export function sfString(value) {
  if (!/^[\x20-\x7e]*$/.test(value)) {
    throw new Error(`cannot sign a non-ASCII value: ${JSON.stringify(value)}`);
  }
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function sfBareItem(value) {
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error("signature parameters are integers or strings");
    return String(value);
  }
  return sfString(value);
}

/** The serialized signature parameters: ("@method" ...);created=...;... (RFC 9421 §2.3). */
export function signatureParams(components, params) {
  const list = `(${components.map(sfString).join(" ")})`;
  return list + params.map(([k, v]) => `;${k}=${sfBareItem(v)}`).join("");
}

function authority(url) {
  // URL.host already drops the scheme's default port and lower-cases the host.
  return url.host;
}

function componentValue(name, method, url, headers) {
  const u = new URL(url);
  const derived = {
    "@method": () => method,
    "@target-uri": () => url,
    "@authority": () => authority(u),
    "@scheme": () => u.protocol.slice(0, -1),
    "@path": () => u.pathname || "/",
    "@query": () => `?${u.search.slice(1)}`,
    "@request-target": () => (u.pathname || "/") + u.search,
  };
  if (name.startsWith("@")) {
    if (!(name in derived)) throw new Error(`unsupported derived component ${name}`);
    return derived[name]();
  }
  if (!(name in headers)) throw new Error(`covered header ${name} is missing`);
  return headers[name];
}

/** The signature base (RFC 9421 §2.5) and the serialized parameters. */
export function signatureBase(method, url, headers, components, params) {
  const lower = {};
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    const clean = String(value).trim().split(/\r?\n/).join(" ");
    lower[key] = key in lower ? `${lower[key]}, ${clean}` : clean;
  }
  const lines = components.map((c) => `${sfString(c)}: ${componentValue(c, method, url, lower)}`);
  const serialized = signatureParams(components, params);
  lines.push(`"@signature-params": ${serialized}`);
  const base = lines.join("\n");
  if (!/^[\x00-\x7f]*$/.test(base)) throw new Error("the signature base must be ASCII");
  return { base: utf8(base), serialized };
}

/**
 * Headers to add to a request: Content-Digest, Signature-Input, Signature.
 * `key` is a non-extractable Ed25519 CryptoKey; `now` is Unix seconds.
 */
export async function signRequest({
  method,
  url,
  headers = {},
  body = new Uint8Array(),
  key,
  keyId,
  now = Math.floor(Date.now() / 1000),
  nonce = randomToken(18),
  ttl = SIGNATURE_TTL,
}) {
  const digest = await contentDigest(body);
  const signed = { ...headers, "Content-Digest": digest };
  const components = [...DEFAULT_COMPONENTS];
  if (Object.keys(headers).some((h) => h.toLowerCase() === "idempotency-key")) {
    components.push("idempotency-key"); // the hub requires it covered when present
  }
  const params = [
    ["created", now],
    ["expires", now + ttl],
    ["nonce", nonce],
    ["keyid", keyId],
    ["alg", "ed25519"],
  ];
  const { base, serialized } = signatureBase(method, url, signed, components, params);
  const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, base));
  return {
    "Content-Digest": digest,
    "Signature-Input": `${LABEL}=${serialized}`,
    Signature: `${LABEL}=:${b64encode(signature)}:`,
  };
}
