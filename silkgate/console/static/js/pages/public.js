// The public page (no sign-in): the hub's identity, its current checkpoint verified in the
// browser with the log key, witness cosignatures, the ledger's size over time, and a box
// that verifies a proof bundle offline (RFC 9162 inclusion + Ed25519 checkpoint signature).

import { api } from "../api.js";
import { b64encode, hex } from "../bytes.js";
import { lineChart } from "../charts.js";
import { VerificationError, openCheckpoint, parseVkey, verifyBundle, verifyCosignature } from "../ledger.js";
import { field, fmtNum, fmtTime, h, notice, section, table } from "../ui.js";

async function checkpointSection(hub) {
  const note = await api("/v1/ledger/checkpoint", { signed: false, as: "text" });
  let cp;
  try {
    cp = await openCheckpoint(note, hub.log_key);
  } catch (exc) {
    return section("Current checkpoint", notice("error", `The hub's checkpoint does not verify: ${exc.message}`));
  }
  const logKey = await parseVkey(hub.log_key);
  // The hub's parsed view says which cosigners are its configured witnesses (and publishes
  // their keys when it can): a cosignature is verified here when its key is known.
  const parsed = await api("/v1/console/checkpoint", { signed: false }).catch(() => null);
  const witnessKeys = (parsed?.signatures || []).map((s) => s.vkey).filter(Boolean);
  const witnesses = await witnessRows(cp.note, logKey, witnessKeys, parsed?.note === note ? parsed.signatures : []);
  return section(
    "Current checkpoint",
    notice("ok", `Signature verified in this browser with the log key ${hub.log_key.split("+")[0]}.`),
    h(
      "dl",
      { class: "facts", id: "checkpoint" },
      h("dt", {}, "Origin"),
      h("dd", {}, cp.origin),
      h("dt", {}, "Tree size"),
      h("dd", { id: "checkpoint-size" }, fmtNum(cp.size)),
      h("dt", {}, "Root hash"),
      h("dd", { class: "mono" }, b64encode(cp.root)),
    ),
    table(
      "Witness cosignatures",
      [
        { label: "witness", value: (w) => w.name },
        { label: "key id", value: (w) => w.keyId },
        { label: "cosigned at", value: (w) => w.when },
        { label: "status", value: (w) => w.status },
      ],
      witnesses,
      { empty: "no witness has cosigned this checkpoint yet", id: "witnesses" },
    ),
    h("details", {}, h("summary", {}, "The signed note"), h("pre", { class: "note" }, note)),
  );
}

/** Each cosignature line of the note; verified when the hub publishes that witness's key. */
async function witnessRows(note, logKey, witnessKeys = [], hubView = []) {
  const known = {};
  for (const k of witnessKeys) {
    try {
      const v = await parseVkey(k);
      known[v.name] = v;
    } catch {
      /* an unusable witness key is shown as unverified */
    }
  }
  const rows = [];
  for (const sig of note.signatures) {
    if (sig.name === logKey.name && hex(sig.keyId) === hex(logKey.keyId)) continue;
    const row = { name: sig.name, keyId: hex(sig.keyId), when: "–", status: "key not published" };
    if (sig.signature.length === 72) {
      const t = new DataView(sig.signature.buffer, sig.signature.byteOffset, 8).getBigUint64(0);
      row.when = fmtTime(Number(t));
    }
    const said = hubView.find((v) => v.name === sig.name && v.key_id === row.keyId);
    if (said && said.known) row.status = said.verified ? "verified by the hub" : "does not verify (hub)";
    else if (said) row.status = "not a witness this hub knows";
    if (known[sig.name]) {
      try {
        await verifyCosignature(note, known[sig.name]);
        row.status = "verified in this browser";
      } catch (exc) {
        row.status = `does not verify: ${exc.message}`;
      }
    }
    rows.push(row);
  }
  return rows;
}

/** Midnight UTC `days` ago: whole days let the hub read its hourly tops. */
function daysAgoMidnight(days) {
  const d = new Date(Date.now() - days * 86400000);
  return `${d.toISOString().slice(0, 10)}T00:00:00Z`;
}

async function historySection() {
  let series;
  try {
    series = await api("/v1/console/ledger-history", { signed: false, params: { bucket: "day", since: daysAgoMidnight(90) } });
  } catch {
    return null; // an older hub without the aggregate: the checkpoint above still shows the size
  }
  const points = (series.points || []).map((p) => ({ x: fmtTime(p.time).slice(0, 16), y: p.size }));
  return section("Ledger size over time", points.length ? lineChart({ title: "Ledger entries over time", points, yLabel: "entries" }) : h("p", {}, "No history yet."));
}

function verifySection(hub) {
  const text = h("textarea", { rows: 8, id: "bundle-text", spellcheck: "false" });
  const file = h("input", { type: "file", id: "bundle-file", accept: ".json,application/json" });
  const vkey = h("input", { type: "text", id: "bundle-vkey", value: hub.log_key, spellcheck: "false", autocomplete: "off" });
  const result = h("div", { id: "bundle-result", "aria-live": "polite" });
  file.addEventListener("change", async () => {
    if (file.files && file.files[0]) text.value = await file.files[0].text();
  });
  const form = h(
    "form",
    {
      class: "card",
      onsubmit: async (event) => {
        event.preventDefault();
        result.replaceChildren();
        try {
          const ok = await verifyBundle(text.value, vkey.value.trim());
          const e = ok.entry || {};
          result.append(
            notice("ok", `Verified: entry ${fmtNum(ok.index)} is in the log ${ok.origin} of size ${fmtNum(ok.size)}, whose checkpoint the log key signed.`),
            h(
              "dl",
              { class: "facts" },
              h("dt", {}, "Kind"),
              h("dd", {}, e.kind || "–"),
              h("dt", {}, "Batch"),
              h("dd", { class: "mono" }, e.batch_id || "–"),
              h("dt", {}, "Time"),
              h("dd", {}, fmtTime(e.time)),
            ),
          );
        } catch (exc) {
          const why = exc instanceof VerificationError ? exc.message : `unexpected error: ${exc.message}`;
          result.append(notice("error", `Refused: ${why}.`));
        }
      },
    },
    field("Proof bundle (JSON)", text, "Paste a silkgate-proof-bundle/v1, or choose its file below."),
    field("Or choose a bundle file", file),
    field("Log verifier key", vkey, "Filled in with this hub's log key; paste the key you hold from elsewhere to check against it."),
    h("button", { type: "submit", id: "bundle-verify" }, "Verify in this browser"),
    result,
  );
  return section("Verify a proof bundle", h("p", {}, "The check runs here, with nothing sent to the hub."), form);
}

async function render(body) {
  const hub = await api("/v1/hub", { signed: false });
  body.append(
    section(
      "This hub",
      h(
        "dl",
        { class: "facts", id: "hub-identity" },
        h("dt", {}, "Log origin"),
        h("dd", {}, hub.log_origin),
        h("dt", {}, "Log verifier key"),
        h("dd", { class: "mono" }, hub.log_key),
        h("dt", {}, "Hub signing key"),
        h("dd", { class: "mono" }, hub.key_id),
      ),
    ),
  );
  body.append(await checkpointSection(hub));
  const history = await historySection();
  if (history) body.append(history);
  body.append(verifySection(hub));
}

export const publicPages = { "/": { title: "Public ledger", heading: "Public ledger", render } };
