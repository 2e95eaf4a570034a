// Calls to the hub's API, signed in the browser with the participant's key (signer.js).
// No cookies, no sessions: every request carries its own RFC 9421 signature.

import { utf8 } from "./bytes.js";
import { signRequest } from "./signer.js";

let identity = null; // {participant, keyId, key (CryptoKey), roles}
let clockOffset = 0; // seconds to add to this device's clock to get the hub's

/** The hub's time now (Unix seconds), corrected once the hub told us its Date. */
export const hubNow = () => Math.floor(Date.now() / 1000) + clockOffset;

function learnClock(response) {
  const date = Date.parse(response.headers.get("date") || "");
  if (Number.isNaN(date)) return false;
  const offset = Math.round(date / 1000 - Date.now() / 1000);
  // The hub accepts signatures up to 30 s ahead of it and 300 s behind: correct only a
  // device clock that is clearly off (the Date header has 1 s resolution).
  if (Math.abs(offset - clockOffset) < 5) return false;
  clockOffset = offset;
  return true;
}

export const setIdentity = (value) => {
  identity = value;
};
export const currentIdentity = () => identity;

export class ApiError extends Error {
  constructor(status, kind, message) {
    super(message);
    this.status = status;
    this.kind = kind;
  }
}

/** The URL of `path` on this hub with `params` (null/undefined left out). */
export function hubUrl(path, params = {}) {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== "") url.searchParams.set(k, String(v));
  }
  return url.href;
}

/**
 * The `after` cursor of the next page a `Link` header names (RFC 8288, `rel="next"`), or
 * null on the last page. The hub pages its registry lists this way (docs/api.md, paging).
 */
export function nextAfter(link) {
  if (!link) return null;
  for (const value of link.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(value);
    if (!m) continue;
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;\s,]+))/i.exec(m[2]);
    const rels = rel ? (rel[1] ?? rel[2]).toLowerCase().split(/\s+/) : [];
    if (rels.includes("next")) return new URL(m[1], window.location.href).searchParams.get("after");
  }
  return null;
}

/**
 * One API call. `body` (an object) is sent as JSON; `signed` (default true) signs with the
 * signed-in participant's key. Returns parsed JSON, or text for text answers (`as: "text"`),
 * or `{rows, next}` for a page of a paged list (`as: "page"`: `next` is the `after` of the
 * next page, null on the last); throws
 * ApiError with the hub's message on a non-2xx answer.
 */
export async function api(path, options = {}) {
  try {
    return await request(path, options);
  } catch (exc) {
    // A device clock far from the hub's makes every signature "stale" or "in the future":
    // the hub's Date header has told us its time by now; sign again with it, once.
    if (exc instanceof ApiError && exc.status === 401 && exc.clockCorrected) return request(path, options);
    throw exc;
  }
}

async function request(path, { method = "GET", params, body, signed = true, headers = {}, as } = {}) {
  const url = hubUrl(path, params);
  const bytes = body === undefined ? new Uint8Array() : utf8(JSON.stringify(body));
  const all = { Accept: "application/json", ...headers };
  if (body !== undefined) all["Content-Type"] = "application/json";
  if (signed) {
    if (!identity) throw new ApiError(401, "auth", "Sign in with your key file first.");
    Object.assign(
      all,
      await signRequest({ method, url, headers: all, body: bytes, key: identity.key, keyId: identity.keyId, now: hubNow() }),
    );
  }
  let response;
  try {
    response = await fetch(url, {
      method,
      headers: all,
      body: method === "GET" || method === "HEAD" ? undefined : bytes,
      credentials: "omit",
      cache: "no-store",
      redirect: "error",
    });
  } catch (exc) {
    throw new ApiError(0, "transport", `The hub did not answer (${exc.message}).`);
  }
  const corrected = learnClock(response);
  const type = response.headers.get("content-type") || "";
  const payload = type.includes("json") && as !== "text" ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) {
    const message =
      payload && typeof payload === "object" && payload.message ? payload.message : `HTTP ${response.status}`;
    const kind = payload && typeof payload === "object" && payload.error ? payload.error : "http";
    const error = new ApiError(response.status, kind, message);
    error.clockCorrected = corrected && signed && /stale|future|expired/.test(message);
    throw error;
  }
  if (as === "page") return { rows: payload, next: nextAfter(response.headers.get("link")) };
  return payload;
}

/** Every row of a paged list, page after page (for choosers over a bounded list). */
export async function apiAll(path, { params = {}, limit = 500, ...options } = {}) {
  const rows = [];
  let after = null;
  do {
    const page = await api(path, { ...options, params: { ...params, limit, after }, as: "page" });
    rows.push(...page.rows);
    if (page.next === after) break;
    after = page.next;
  } while (after);
  return rows;
}
