// Views shared by several roles: batch lists and details, counters against thresholds,
// agreements and filings.

import { api } from "../api.js";
import { downloadJson, fmtNum, fmtTime, h, notice, outcomeBadges, pager, section, short, table } from "../ui.js";

export const WARN_AT = 0.8; // warn when an exporter has used 80 % of a threshold

/** A paged list of batches with a details panel per batch. */
export function batchList(container, { params = {}, limit = 20, caption = "Batches" } = {}) {
  const detail = h("div", { id: "batch-detail" });
  const list = h("div", { id: "batch-list" });
  container.append(list, detail);
  async function load(offset) {
    const page = await api("/v1/batches", { params: { ...params, limit, offset } });
    list.replaceChildren(
      table(
        caption,
        [
          { label: "committed", value: (b) => fmtTime(b.committed_at) },
          { label: "batch", value: (b) => h("span", { class: "mono", title: b.batch_id }, short(b.batch_id, 12)) },
          { label: "exporter", value: (b) => b.exporter },
          { label: "importer", value: (b) => b.importer },
          { label: "product", value: (b) => b.product },
          { label: "records", value: (b) => fmtNum(b.records), num: true },
          { label: "decisions", value: (b) => outcomeBadges(b.outcomes) },
          {
            label: "details",
            value: (b) =>
              h("button", { type: "button", class: "small", "data-batch": b.batch_id, "aria-label": `Details of batch ${b.batch_id}`, onclick: () => showBatch(detail, b.batch_id) }, "Details"),
          },
        ],
        page.batches,
        { empty: "no batches yet" },
      ),
      pager({ offset, limit, shown: page.batches.length, onPage: (o) => load(o).catch(showError(list)), label: `${caption} pages` }),
    );
  }
  return load(0);
}

export const showError = (where) => (exc) => where.append(notice("error", `The hub refused: ${exc.message}`));

/** One batch explained: rules with citations, reasons, envelopes, receipts, proof bundle. */
export async function showBatch(container, batchId) {
  container.replaceChildren(h("p", {}, "Loading…"));
  const report = await api(`/v1/batches/${encodeURIComponent(batchId)}/report`);
  const rules = table(
    "Rules that fired",
    [
      { label: "rule", value: (r) => h("span", { class: "mono" }, r.rule_id) },
      { label: "what it says", value: (r) => r.title || "–" },
      { label: "records", value: (r) => fmtNum(r.records), num: true },
      { label: "decisions", value: (r) => outcomeBadges(r.outcomes) },
      { label: "legal citations", value: (r) => h("ul", { class: "citations" }, (r.citations || []).map((c) => h("li", {}, c))) },
    ],
    report.rules || [],
    { id: "batch-rules" },
  );
  const reasons = Object.entries(report.reasons || {});
  const parts = [
    h("h3", { tabindex: "-1", id: "batch-detail-heading" }, `Batch ${report.batch_id}`),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Flow"),
      h("dd", {}, `${report.exporter} → ${report.importer}, ${report.product} (${report.purpose})`),
      h("dt", {}, "Records"),
      h("dd", {}, fmtNum(report.records), " ", outcomeBadges(report.outcomes)),
      h("dt", {}, "Policy version"),
      h("dd", { class: "mono" }, report.policy_version),
      h("dt", {}, "Ledger entry"),
      h("dd", {}, report.ledger_index === null ? "–" : fmtNum(report.ledger_index)),
    ),
    rules,
    reasons.length
      ? h("div", {}, h("h4", {}, "Why held or denied"), h("ul", {}, reasons.map(([k, v]) => h("li", {}, `${k}: ${Array.isArray(v) ? v.join("; ") : typeof v === "object" ? JSON.stringify(v) : v}`))))
      : null,
  ];
  try {
    const receipts = await api(`/v1/batches/${encodeURIComponent(batchId)}/receipts`);
    parts.push(receiptsView(receipts));
  } catch (exc) {
    parts.push(notice("info", `Receipts: ${exc.message}`));
  }
  container.replaceChildren(h("div", { class: "card" }, parts));
  container.querySelector("h3").focus();
}

export function receiptsView(receipts) {
  return h(
    "div",
    { class: "receipts" },
    table(
      "Importer receipts",
      [
        { label: "receipt", value: (r) => h("span", { class: "mono" }, short(r.receipt.envelope_id || r.receipt.id || "", 18)) },
        { label: "by", value: (r) => r.receipt.importer || r.receipt.by || "–" },
        { label: "received", value: (r) => fmtTime(r.receipt.received_at) },
        { label: "ledger entry", value: (r) => fmtNum(r.proof.index), num: true },
        { label: "proof", value: (r) => h("button", { type: "button", class: "small", onclick: () => downloadJson(`receipt-${r.proof.index}.bundle.json`, r.proof) }, "Download bundle") },
      ],
      receipts.receipts || [],
      { empty: "no receipt yet", id: "receipt-table" },
    ),
    receipts.batch_proof
      ? h(
          "p",
          {},
          h("button", { type: "button", id: "download-batch-bundle", onclick: () => downloadJson(`batch-${receipts.batch_proof.index}.bundle.json`, receipts.batch_proof) }, "Download the batch's proof bundle"),
          " — anyone can check it on the public page, offline.",
        )
      : null,
  );
}

/** Distinct individuals per exporter and year against the thresholds, with warnings. */
export function countersView(report) {
  const rows = [];
  for (const c of report.counters || []) {
    for (const cat of c.categories || []) {
      const next = cat.next_threshold;
      const share = next ? cat.individuals / next : 1;
      const reached = (cat.thresholds || []).filter((t) => t.reached);
      // The hub says the level (docs/console.md, counters); an older hub does not.
      let level = cat.level || "ok";
      if (!cat.level && reached.length) level = "reached";
      else if (!cat.level && share >= WARN_AT) level = "warning";
      rows.push({ exporter: c.exporter, year: c.year, ...cat, share, level, reached });
    }
  }
  const warnings = rows.filter((r) => r.level !== "ok");
  return h(
    "div",
    {},
    warnings.length
      ? notice(
          "warn",
          `${warnings.length} threshold warning${warnings.length > 1 ? "s" : ""}: `,
          warnings.map((w) => `${w.exporter} ${w.category} at ${Math.round(w.share * 100)} %`).join("; "),
        )
      : notice("ok", `No exporter has reached ${Math.round(WARN_AT * 100)} % of its next threshold.`),
    table(
      `Distinct individuals in ${report.year} against the CN thresholds`,
      [
        { label: "exporter", value: (r) => r.exporter },
        { label: "category", value: (r) => (r.category === "sensitive_pi" ? "sensitive PI" : r.category === "pi" ? "PI" : r.category) },
        { label: "individuals", value: (r) => fmtNum(r.individuals), num: true },
        { label: "next threshold", value: (r) => (r.next_threshold ? fmtNum(r.next_threshold) : "all reached"), num: true },
        {
          label: "used",
          value: (r) =>
            h(
              "span",
              { class: "meter-wrap" },
              h("meter", { min: 0, max: 1, low: 0.5, high: WARN_AT, optimum: 0, value: Math.min(1, r.share), "aria-label": `${r.exporter} ${r.category} share of the next threshold` }),
              ` ${(r.share * 100).toFixed(r.share < 0.01 && r.share > 0 ? 2 : 0)} %`,
            ),
        },
        {
          label: "status",
          value: (r) =>
            h("span", { class: `level level-${r.level}` }, r.level === "reached" ? `reached: ${r.reached.map((t) => t.procedure).join("; ")}` : r.level === "warning" ? "warning: close to the threshold" : "ok"),
        },
      ],
      rows,
      { id: "counters" },
    ),
  );
}

/** Rows per page of the registry lists (the hub's default is 100, at most 500). */
export const PAGE_ROWS = 25;

/**
 * A table over a paged list (GET `path` with `limit` and `after`; the hub names the next
 * page in a `Link` header): "← Back" and "More →" like the mailbox. Resolves once the
 * first page is shown.
 */
export function pagedTable(container, { path, params = {}, limit = PAGE_ROWS, caption, columns, id, empty }) {
  const cursors = [null]; // the `after` of each page shown so far
  const load = async (after, focus) => {
    const page = await api(path, { params: { ...params, limit, after }, as: "page" });
    const move = (next, where) => () => load(next, where).catch(showError(container));
    const back = h("button", { type: "button", disabled: cursors.length < 2, onclick: () => { cursors.pop(); move(cursors[cursors.length - 1], "back")(); } }, "← Back");
    const more = h("button", { type: "button", disabled: !page.next, onclick: () => { cursors.push(page.next); move(page.next, "more")(); } }, "More →");
    const first = (cursors.length - 1) * limit;
    container.replaceChildren(
      table(caption, columns, page.rows, { id, empty }),
      h(
        "nav",
        { class: "pager", "aria-label": `${caption} pages` },
        back,
        h("span", { "aria-live": "polite" }, page.rows.length ? `${fmtNum(first + 1)}–${fmtNum(first + page.rows.length)}` : "none"),
        more,
      ),
    );
    // Keep the keyboard where it was: on the control pressed, or the other one at an end.
    if (focus === "more") (more.disabled ? back : more).focus();
    if (focus === "back") (back.disabled ? more : back).focus();
  };
  return load(null, null);
}

export const AGREEMENT_COLUMNS = [
  { label: "id", value: (a) => h("span", { class: "mono" }, a.id) },
  { label: "exporter", value: (a) => a.exporter },
  { label: "importer", value: (a) => a.importer },
  { label: "product", value: (a) => a.product },
  { label: "purpose", value: (a) => a.purpose },
  { label: "instrument", value: (a) => a.instrument },
  { label: "valid", value: (a) => `${a.valid_from} – ${a.valid_until || "open"}` },
  { label: "active", value: (a) => (a.active ? "yes" : "no") },
];

export const FILING_COLUMNS = [
  { label: "id", value: (f) => h("span", { class: "mono" }, f.id) },
  { label: "exporter", value: (f) => f.exporter },
  { label: "kind", value: (f) => f.kind },
  { label: "recipient", value: (f) => f.recipient || "any" },
  { label: "reference", value: (f) => f.reference || "–" },
  { label: "valid", value: (f) => `${f.valid_from} – ${f.valid_until || "open"}` },
];

/** Agreements and filings the signed-in participant may see, each a paged table. */
export async function agreementsAndFilings(body) {
  const agreements = h("div", { id: "agreements-list" });
  const filings = h("div", { id: "filings-list" });
  body.append(section("Agreements", agreements), section("Filings", filings));
  await Promise.all([
    pagedTable(agreements, { path: "/v1/agreements", caption: "Agreements on file", columns: AGREEMENT_COLUMNS, id: "agreements", empty: "none on file" }),
    pagedTable(filings, { path: "/v1/filings", caption: "Filings on record", columns: FILING_COLUMNS, id: "filings", empty: "none on record" }),
  ]);
}
