// Exporter: own batches with decisions, reasons and citations; a dry run by upload (the
// same decision as `silkgate send`: POST /v1/batches/check); counters; agreements and
// filings; receipts with their proof bundles.

import { api, apiAll, currentIdentity } from "../api.js";
import { field, fmtNum, h, notice, outcomeBadges, outcomeLabel, table } from "../ui.js";
import { agreementsAndFilings, batchList, countersView, receiptsView } from "./common.js";

export const PURPOSES = [
  "contract_performance",
  "hr_management",
  "emergency",
  "logistics_operations",
  "customs_clearance",
  "analytics",
  "marketing",
  "other",
];

/** Records from an uploaded file: a JSON array, one JSON object, or JSON Lines. */
export function parseRecords(text) {
  const trimmed = text.trim();
  if (!trimmed) throw new Error("the file is empty");
  if (trimmed.startsWith("[")) return JSON.parse(trimmed);
  try {
    return [JSON.parse(trimmed)];
  } catch {
    return trimmed.split(/\r?\n/).filter((l) => l.trim()).map((line, i) => {
      try {
        return JSON.parse(line);
      } catch {
        throw new Error(`line ${i + 1} is not JSON`);
      }
    });
  }
}

async function batchesPage(body) {
  await batchList(body, { params: { exporter: currentIdentity().participant }, caption: "Your batches (newest first)" });
}

function select(options, attrs = {}) {
  return h("select", attrs, options.map(([value, label]) => h("option", { value }, label)));
}

async function dryRunPage(body) {
  const me = currentIdentity().participant;
  // Only this exporter's agreements, asked for by filter (page after page), not every row.
  const [agreements, products] = await Promise.all([apiAll("/v1/agreements", { params: { exporter: me } }), api("/v1/products", { signed: false })]);
  const mine = agreements.filter((a) => a.exporter === me && a.active);
  const importers = [...new Set(mine.map((a) => a.importer))];
  const productList = (products.products || products).map((p) => p.id);
  const importer = select(importers.map((i) => [i, i]), { id: "dry-importer" });
  const product = select(productList.map((p) => [p, p]), { id: "dry-product" });
  const purpose = select(PURPOSES.map((p) => [p, p]), { id: "dry-purpose" });
  const file = h("input", { type: "file", id: "dry-file", accept: ".json,.jsonl,application/json" });
  const result = h("div", { id: "dry-result", "aria-live": "polite" });
  const syncFromAgreement = () => {
    const a = mine.find((x) => x.importer === importer.value);
    if (a) {
      product.value = a.product;
      purpose.value = a.purpose;
    }
  };
  importer.addEventListener("change", syncFromAgreement);
  syncFromAgreement();
  const form = h(
    "form",
    {
      class: "card",
      onsubmit: async (event) => {
        event.preventDefault();
        result.replaceChildren(h("p", {}, "Checking…"));
        try {
          if (!file.files || !file.files[0]) throw new Error("choose a file of records");
          const records = parseRecords(await file.files[0].text());
          const answer = await api("/v1/batches/check", {
            method: "POST",
            body: { importer: importer.value, product: product.value, purpose: purpose.value, records },
          });
          result.replaceChildren(dryRunResult(answer));
        } catch (exc) {
          result.replaceChildren(notice("error", `Dry run failed: ${exc.message}`));
        }
      },
    },
    field("Importer", importer),
    field("Data product", product),
    field("Purpose", purpose),
    field("Records file", file, "A JSON array of records, one JSON object, or JSON Lines. Nothing is committed, counted or delivered."),
    h("button", { type: "submit", id: "dry-run-button" }, "Check what sending would decide"),
  );
  body.append(
    h("p", {}, "The same decision `silkgate send` would get now: same agreement, filings, counters and live policy."),
    mine.length ? form : notice("info", "You have no active agreement, so every batch would be denied (deny by default)."),
    result,
  );
}

function dryRunResult(answer) {
  const decisions = answer.decisions || [];
  const shown = decisions.slice(0, 200);
  return h(
    "div",
    { class: "card" },
    h("h2", {}, "Dry-run result"),
    h("p", { id: "dry-outcomes" }, `${fmtNum(decisions.length)} records: `, outcomeBadges(answer.outcomes)),
    table(
      decisions.length > shown.length ? `First ${shown.length} record decisions` : "Record decisions",
      [
        { label: "record", value: (d) => fmtNum(d.index), num: true },
        { label: "outcome", value: (d) => h("span", { class: `badge b-${d.decision.outcome}` }, outcomeLabel[d.decision.outcome] || d.decision.outcome) },
        { label: "rules", value: (d) => h("span", { class: "mono" }, (d.decision.rule_ids || []).join(", ")) },
        { label: "obligations", value: (d) => (d.decision.obligations || []).map((o) => o.action || o.kind || JSON.stringify(o)).join(", ") || "–" },
        { label: "citations", value: (d) => h("ul", { class: "citations" }, (d.decision.citations || []).map((c) => h("li", {}, c))) },
      ],
      shown,
      { id: "dry-decisions" },
    ),
  );
}

async function countersPage(body) {
  body.append(countersView(await api("/v1/counters")));
}

async function receiptsPage(body) {
  const me = currentIdentity().participant;
  const page = await api("/v1/batches", { params: { exporter: me, limit: 50 } });
  const delivered = page.batches.filter((b) => b.envelope_id);
  const out = h("div", { id: "receipts-detail" });
  body.append(
    h("p", {}, "Each delivered batch gets a receipt signed by its importer, itself an entry of the ledger; download a proof bundle to show anyone that it is there."),
    table(
      "Delivered batches (latest 50)",
      [
        { label: "batch", value: (b) => h("span", { class: "mono" }, b.batch_id) },
        { label: "importer", value: (b) => b.importer },
        { label: "records", value: (b) => fmtNum(b.records), num: true },
        {
          label: "receipts",
          value: (b) =>
            h("button", {
              type: "button",
              class: "small",
              "aria-label": `Receipts of batch ${b.batch_id}`,
              onclick: async () => {
                out.replaceChildren(h("h2", {}, `Receipts of ${b.batch_id}`), receiptsView(await api(`/v1/batches/${b.batch_id}/receipts`)));
              },
            }, "Show"),
        },
      ],
      delivered,
      { id: "delivered" },
    ),
    out,
  );
}

export const exporterPages = {
  "/exporter/batches": { title: "Batches", heading: "Your batches", role: "exporter", render: batchesPage },
  "/exporter/dry-run": { title: "Dry run", heading: "Dry run by upload", role: "exporter", render: dryRunPage },
  "/exporter/counters": { title: "Counters", heading: "Individuals against thresholds", role: "exporter", render: countersPage },
  "/exporter/filings": { title: "Agreements & filings", role: "exporter", render: agreementsAndFilings },
  "/exporter/receipts": { title: "Receipts", heading: "Receipts and proofs", role: "exporter", render: receiptsPage },
};
