// Operator: participants, their keys (history, rotation by registering new public keys,
// revocation), agreements and filings, health and metrics.

import { api, apiAll } from "../api.js";
import { b64decode, hex, sha256 } from "../bytes.js";
import { field, fmtNum, fmtTime, h, notice, section, short, table } from "../ui.js";
import { agreementsAndFilings, pagedTable } from "./common.js";

async function participantsPage(body) {
  const list = h("div", { id: "participants-list" });
  body.append(list);
  await pagedTable(list, {
    path: "/v1/participants",
    caption: "Participants",
    columns: [
      { label: "id", value: (p) => p.id },
      { label: "name", value: (p) => p.name },
      { label: "jurisdiction", value: (p) => p.jurisdiction },
      { label: "roles", value: (p) => p.roles.join(", ") },
      { label: "sector", value: (p) => p.sector },
      { label: "active", value: (p) => (p.active ? "yes" : "no") },
    ],
    id: "participants",
    empty: "none registered",
  });
}

async function keyHistory(p) {
  const rows = [];
  const add = async (kind, list, current) => {
    if (list && list.length) {
      for (const k of list) rows.push({ kind, ...k });
    } else if (current) {
      const raw = b64decode(current);
      const algo = kind === "signing" ? "ed25519" : raw.length === 32 ? "x25519" : "mlkem768x25519";
      rows.push({ kind, key_id: `${algo}:${hex(await sha256(raw)).slice(0, 16)}`, not_before: null });
    }
  };
  await add("signing", p.signing_keys, p.signing_key);
  await add("hpke", p.hpke_keys, p.hpke_key);
  return rows;
}

async function keysPage(body) {
  // Every participant, page after page: the chooser needs them all (organisations, not
  // agreements or filings). The one shown is refreshed from what the hub answers.
  const people = await apiAll("/v1/participants");
  const byId = new Map(people.map((p) => [p.id, p]));
  const chooser = h("select", { id: "key-participant" }, people.map((p) => h("option", { value: p.id }, `${p.id} (${p.roles.join(", ")})`)));
  const out = h("div", { id: "keys" });
  const result = h("div", { id: "keys-result", "aria-live": "polite" });
  const show = async (changed) => {
    if (changed) byId.set(changed.id, changed);
    const p = byId.get(chooser.value);
    const rows = await keyHistory(p);
    const revoke = (k) => async () => {
      result.replaceChildren();
      try {
        await show(await api(`/v1/participants/${encodeURIComponent(p.id)}/keys/${encodeURIComponent(k.key_id)}/revoke`, { method: "POST", body: {} }));
        result.append(notice("ok", `Revoked ${k.key_id} of ${p.id}.`));
      } catch (exc) {
        result.append(notice("error", `Revocation refused: ${exc.message}`));
      }
    };
    const signing = h("input", { type: "text", id: "rotate-signing", spellcheck: "false", required: true });
    const hpke = h("input", { type: "text", id: "rotate-hpke", spellcheck: "false", required: true });
    const overlap = h("input", { type: "number", id: "rotate-overlap", min: "0", max: "365", value: "30" });
    out.replaceChildren(
      table(
        `Keys of ${p.id}`,
        [
          { label: "key id", value: (k) => h("span", { class: "mono" }, k.key_id) },
          { label: "kind", value: (k) => k.kind },
          { label: "valid from", value: (k) => (k.not_before ? fmtTime(k.not_before) : "registration") },
          { label: "valid until", value: (k) => (k.not_after ? fmtTime(k.not_after) : "open") },
          { label: "revoked", value: (k) => (k.revoked_at ? fmtTime(k.revoked_at) : "no") },
          { label: "revoke", value: (k) => (k.revoked_at ? "–" : h("button", { type: "button", class: "small danger", "aria-label": `Revoke ${k.key_id}`, onclick: revoke(k) }, "Revoke")) },
        ],
        rows,
      ),
      h(
        "form",
        {
          class: "card",
          onsubmit: async (e) => {
            e.preventDefault();
            result.replaceChildren();
            try {
              const rotated = await api(`/v1/participants/${encodeURIComponent(p.id)}/keys`, {
                method: "POST",
                body: { signing_key: signing.value.trim(), hpke_key: hpke.value.trim(), overlap_days: Number(overlap.value) },
              });
              await show(rotated);
              result.append(notice("ok", `Registered rotated keys for ${p.id}.`));
            } catch (exc) {
              result.append(notice("error", `Rotation refused: ${exc.message}`));
            }
          },
        },
        h("h3", {}, "Register rotated keys"),
        h("p", {}, "The participant makes new keys on its own machine (`silkgate keygen --id ID --out FILE` prints the public halves, base64) and hands over the public halves; the old keys stay valid for the overlap."),
        field("New Ed25519 signing public key (base64)", signing),
        field("New HPKE public key (base64)", hpke),
        field("Overlap (days)", overlap),
        h("button", { type: "submit" }, "Register"),
      ),
    );
  };
  chooser.addEventListener("change", () => show(null).catch((exc) => result.replaceChildren(notice("error", exc.message))));
  body.append(field("Participant", chooser), result, out);
  await show(null);
}

/** Prometheus text: the samples of the metric families the operator reads first. */
export function parseMetrics(text) {
  const rows = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m) rows.push({ name: m[1], labels: m[2] ? m[2].slice(1, -1) : "", value: Number(m[3]) });
  }
  return rows;
}

async function healthPage(body) {
  const health = await api("/v1/health", { signed: false });
  body.append(
    section(
      "Health",
      h(
        "dl",
        { class: "facts", id: "health" },
        Object.entries(health).flatMap(([k, v]) => [h("dt", {}, k.replace(/_/g, " ")), h("dd", {}, typeof v === "number" ? fmtNum(v) : String(v))]),
      ),
    ),
  );
  const text = await api("/metrics", { as: "text", headers: { Accept: "text/plain" } });
  const samples = parseMetrics(text).filter((s) => s.name.startsWith("silkgate_") && !s.name.endsWith("_bucket") && !s.name.endsWith("_created"));
  body.append(
    section(
      "Metrics",
      table(
        `Prometheus metrics (${samples.length} samples)`,
        [
          { label: "metric", value: (s) => h("span", { class: "mono" }, s.name) },
          { label: "labels", value: (s) => h("span", { class: "mono" }, short(s.labels, 80)) },
          { label: "value", value: (s) => fmtNum(Math.round(s.value * 1000) / 1000), num: true },
        ],
        samples,
        { id: "metrics" },
      ),
    ),
  );
}

export const operatorPages = {
  "/operator/participants": { title: "Participants", role: "operator", render: participantsPage },
  "/operator/keys": { title: "Keys", heading: "Keys: rotation and revocation", role: "operator", render: keysPage },
  "/operator/agreements": { title: "Agreements", heading: "Agreements and filings", role: "operator", render: agreementsAndFilings },
  "/operator/health": { title: "Health", heading: "Health and metrics", role: "operator", render: healthPage },
};
