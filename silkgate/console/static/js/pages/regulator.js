// Regulator: corridor overview, thresholds per exporter, the holds queue (release/reject,
// signed with the regulator's key over silkgate.flow.holds.hold_message), and the sandbox
// (versions and transitions, shadow diffs, replay, cohorts and the kill switch).

import { api, currentIdentity } from "../api.js";
import { b64encode, canonicalJson, hex, sha256, utf8 } from "../bytes.js";
import { hbars, stackedBars } from "../charts.js";
import { field, fmtNum, fmtTime, h, notice, OUTCOMES, outcomeLabel, pager, section, short, table } from "../ui.js";
import { countersView } from "./common.js";

const LEGAL_STEPS = {
  standard_contract: "standard contract filing",
  certification: "personal information protection certification",
  security_assessment: "CAC security assessment",
  transfer_impact_assessment: "transfer impact assessment",
};

/** Sign `message` (bytes) with the signed-in key: {key_id, signature (base64)}. */
async function approval(message) {
  const me = currentIdentity();
  const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, me.key, message));
  return { key_id: me.keyId, signature: b64encode(sig) };
}

/** silkgate.flow.holds.hold_message: canonical JSON of the action, envelope, reason, signer. */
export function holdMessage(action, envelopeId, reason, by) {
  return utf8(canonicalJson({ action: `silkgate.holds.${action}`, envelope_id: envelopeId, reason: reason.trim(), by }));
}

/** silkgate.sandbox.auth.action_message. */
export function actionMessage(action, body) {
  return utf8(canonicalJson({ action: `silkgate.sandbox.${action}`, ...body }));
}

// --- corridor overview --------------------------------------------------------------------

const isoDay = (d) => d.toISOString().slice(0, 10);
const nextDay = (day) => isoDay(new Date(Date.parse(`${day}T00:00:00Z`) + 86400000)); // `until` is exclusive

async function overviewPage(body) {
  const until = new Date();
  const since = new Date(until.getTime() - 30 * 86400000);
  const from = h("input", { type: "date", value: isoDay(since), id: "ov-since" });
  const to = h("input", { type: "date", value: isoDay(until), id: "ov-until" });
  const out = h("div", { id: "overview" });
  const load = async () => {
    out.replaceChildren(h("p", {}, "Loading…"));
    const params = { since: from.value, until: nextDay(to.value) };
    let corridors, rules;
    try {
      [corridors, rules] = await Promise.all([
        api("/v1/console/corridors", { params: { ...params, limit: 5000 } }),
        api("/v1/console/rules", { params: { ...params, limit: 10 } }),
      ]);
    } catch (exc) {
      if (exc.status !== 404) throw exc;
      out.replaceChildren(notice("info", "This hub does not serve the corridor aggregates (/v1/console/corridors); update silkgate."));
      return;
    }
    out.replaceChildren(...corridorCharts(corridors, rules));
  };
  body.append(
    h(
      "form",
      { class: "inline card", onsubmit: (e) => { e.preventDefault(); load().catch((exc) => out.replaceChildren(notice("error", exc.message))); } },
      field("From", from),
      field("Until", to),
      h("button", { type: "submit" }, "Show"),
    ),
    out,
  );
  await load();
}

/** Charts from the server's aggregates: CN↔each member by outcome; per day; top rules. */
export function corridorCharts(corridors, rules) {
  const rows = corridors.rows || [];
  const key = (r) => `${r.origin}→${r.destination}`;
  const names = [...new Set(rows.map(key))].sort();
  const totals = Object.fromEntries(names.map((n) => [n, Object.fromEntries(OUTCOMES.map((o) => [o, 0]))]));
  const days = [...new Set(rows.map((r) => r.day))].sort();
  const perDay = Object.fromEntries(days.map((d) => [d, Object.fromEntries(OUTCOMES.map((o) => [o, 0]))]));
  for (const r of rows) {
    if (!(r.outcome in totals[key(r)])) continue;
    totals[key(r)][r.outcome] += r.records;
    perDay[r.day][r.outcome] += r.records;
  }
  const series = (groups, cats) => OUTCOMES.map((o) => ({ name: outcomeLabel[o], cls: `s-${o}`, values: cats.map((c) => groups[c][o]) }));
  const parts = [];
  parts.push(
    names.length
      ? stackedBars({ title: "Records by corridor and outcome", categories: names, series: series(totals, names) })
      : notice("info", "No traffic in this range."),
  );
  if (days.length > 1) parts.push(stackedBars({ title: "Records per day by outcome", categories: days.map((d) => d.slice(5)), series: series(perDay, days) }));
  const top = (rules?.rules || []).slice(0, 10);
  if (top.length) parts.push(hbars({ title: "Rules fired most often", items: top.map((r) => ({ label: r.rule_id, value: r.records })), valueLabel: "records" }));
  return parts;
}

// --- thresholds ---------------------------------------------------------------------------

async function thresholdsPage(body) {
  const year = new Date().getUTCFullYear();
  body.append(h("p", {}, "Distinct individuals per exporter since 1 January, against 100,000 (standard contract), 1,000,000 (security assessment) and 10,000 sensitive (security assessment); a warning from 80 %."));
  body.append(countersView(await api("/v1/counters", { params: { year } })));
}

// --- holds --------------------------------------------------------------------------------

function missingSteps(hold) {
  const steps = new Set();
  for (const r of hold.reasons || []) for (const s of r.requires || []) steps.add(LEGAL_STEPS[s] || s);
  return [...steps];
}

async function holdsPage(body) {
  const result = h("div", { id: "hold-result", "aria-live": "polite" });
  const list = h("div", { id: "holds" });
  body.append(
    h("p", {}, "Held batches wait, sealed, for the missing legal step. Releasing or rejecting one is signed here with your key; the ledger records your signature."),
    result,
    list,
  );
  let offset = 0;
  const limit = 50;
  const load = async () => {
    const page = await api("/v1/holds", { params: { limit, offset } });
    const { holds } = page;
    const total = page.total ?? holds.length;
    if (!holds.length && offset > 0) {
      offset = Math.max(0, offset - limit); // the last one on this page was decided
      return load();
    }
    list.replaceChildren(
      table(
        `Holds queue (${fmtNum(total)}, oldest first)`,
        [
          { label: "held since", value: (x) => fmtTime(x.held_at) },
          { label: "envelope", value: (x) => h("span", { class: "mono", title: x.envelope_id }, short(x.envelope_id, 16)) },
          { label: "flow", value: (x) => h("span", {}, `${x.exporter} → ${x.importer}`, h("br"), h("span", { class: "hint" }, `${x.product} (${x.purpose})`)) },
          { label: "records", value: (x) => fmtNum(x.records), num: true },
          {
            label: "missing legal step",
            value: (x) =>
              h(
                "span",
                {},
                h("strong", {}, missingSteps(x).join(" or ") || "–"),
                h("details", {}, h("summary", {}, `rules: ${(x.reasons || []).flatMap((r) => r.rule_ids).join(", ")}`), h("ul", { class: "citations" }, (x.reasons || []).flatMap((r) => r.citations).map((c) => h("li", {}, c)))),
              ),
          },
          { label: "decide", value: (x) => decideForm(x, result, load) },
        ],
        holds,
        { empty: "no batch is held" },
      ),
      ...(total > limit ? [pager({ offset, limit, shown: holds.length, onPage: (o) => { offset = o; load(); }, label: "Holds pages", prev: "← Earlier", next: "Later →" })] : []),
    );
  };
  await load();
}

function decideForm(hold, result, reload) {
  const reason = h("input", { type: "text", required: true, "aria-label": `Reason for ${hold.envelope_id}`, class: "reason", placeholder: "reason (recorded)" });
  const act = (action) => async () => {
    result.replaceChildren();
    const text = reason.value.trim();
    if (!text) {
      result.append(notice("error", "Give a reason: it is recorded in the ledger."));
      reason.focus();
      return;
    }
    const me = currentIdentity().participant;
    try {
      const signed = await approval(holdMessage(action, hold.envelope_id, text, me));
      const answer = await api(`/v1/holds/${encodeURIComponent(hold.envelope_id)}/${action}`, { method: "POST", body: { reason: text, ...signed } });
      await reload();
      result.append(notice("ok", `${action === "release" ? "Released" : "Rejected"} ${hold.envelope_id}; ledger entry ${answer.ledger_index ?? "–"}.`));
    } catch (exc) {
      result.append(notice("error", `${action} refused: ${exc.message}`));
    }
  };
  return h(
    "div",
    { class: "decide", "data-envelope": hold.envelope_id },
    reason,
    h("button", { type: "button", class: "small", onclick: act("release") }, "Release"),
    h("button", { type: "button", class: "small danger", onclick: act("reject") }, "Reject"),
  );
}

// --- sandbox ------------------------------------------------------------------------------

const NEXT_STATES = { draft: ["shadow", "retired"], shadow: ["active", "retired"], active: ["retired"], retired: [] };

function policyTable(policies, result, reload) {
  const me = () => currentIdentity().participant;
  const move = (p, to) => async () => {
    result.replaceChildren();
    try {
      const msg = actionMessage("policy.transition", { pack: p.pack, version: p.version, sha256: p.sha256, from: p.state, to, by: me() });
      const path = `/v1/sandbox/policies/${encodeURIComponent(p.pack)}/${encodeURIComponent(p.version)}/transition`;
      await api(path, { method: "POST", body: { to, ...(await approval(msg)) } });
      await reload();
      result.append(notice("ok", `${p.pack}@${p.version} is now ${to}.`));
    } catch (exc) {
      result.append(notice("error", `Transition refused: ${exc.message}`));
    }
  };
  return table(
    "Policy versions",
    [
      { label: "version", value: (p) => `${p.pack}@${p.version}` },
      { label: "state", value: (p) => h("span", { class: `state state-${p.state}` }, p.state) },
      { label: "sha-256", value: (p) => h("span", { class: "mono", title: p.sha256 }, short(p.sha256, 12)) },
      { label: "history (signed)", value: (p) => h("ul", { class: "citations" }, (p.history || []).map((t) => h("li", {}, `${t.from_state || "proposed"} → ${t.to_state}, ${fmtTime(t.at)} by ${t.by} (ledger ${t.ledger_index ?? "–"})`))) },
      { label: "move to", value: (p) => h("span", { class: "actions" }, (NEXT_STATES[p.state] || []).map((to) => h("button", { type: "button", class: "small", onclick: move(p, to), "aria-label": `Move ${p.pack}@${p.version} to ${to}` }, to))) },
    ],
    policies,
    { empty: "no proposed version: only the shipped packs are in force", id: "policies" },
  );
}

function proposeForm(result, reload) {
  const yaml = h("textarea", { rows: 6, spellcheck: "false", id: "propose-yaml" });
  return h(
    "form",
    {
      class: "card",
      onsubmit: async (e) => {
        e.preventDefault();
        result.replaceChildren();
        try {
          const text = yaml.value;
          const pack = /^pack:\s*"?([^"\n]+?)"?\s*$/m.exec(text)?.[1];
          const version = /^version:\s*"?([^"\n]+?)"?\s*$/m.exec(text)?.[1];
          if (!pack || !version) throw new Error("the YAML needs `pack:` and `version:` lines");
          const digest = hex(await sha256(utf8(text)));
          const msg = actionMessage("policy.transition", { pack, version, sha256: digest, from: "", to: "draft", by: currentIdentity().participant });
          await api("/v1/sandbox/policies", { method: "POST", body: { yaml: text, ...(await approval(msg)) } });
          yaml.value = "";
          await reload();
          result.append(notice("ok", `Proposed ${pack}@${version} as a draft.`));
        } catch (exc) {
          result.append(notice("error", `Proposal refused: ${exc.message}`));
        }
      },
    },
    field("Propose a pack version (YAML)", yaml, "Stored as a draft, signed by you; shadow it to compare it with the active version on live traffic."),
    h("button", { type: "submit" }, "Propose"),
  );
}

const changeList = (counts) =>
  Object.entries(counts || {}).map(([k, v]) => `${k}: ${fmtNum(v)}`).join(", ") || "–";

function shadowView(diffs) {
  return table(
    "Shadow versions against the active policy",
    [
      { label: "version", value: (d) => d.version },
      { label: "records seen", value: (d) => fmtNum(d.records), num: true },
      { label: "changed", value: (d) => fmtNum(d.changed), num: true },
      { label: "changes", value: (d) => changeList(d.by_change) },
      { label: "by corridor", value: (d) => changeList(d.by_corridor) },
      { label: "by exporter", value: (d) => changeList(d.by_exporter) },
      {
        label: "samples (metadata)",
        value: (d) => {
          const samples = Object.values(d.samples || {}).flat();
          return samples.length ? h("details", {}, h("summary", {}, `${samples.length} samples`), h("pre", { class: "json" }, JSON.stringify(d.samples, null, 1))) : "–";
        },
      },
    ],
    diffs,
    { empty: "no version is in shadow", id: "shadow" },
  );
}

function replayForm() {
  const yaml = h("textarea", { rows: 6, spellcheck: "false", id: "replay-yaml" });
  const out = h("div", { id: "replay-result", "aria-live": "polite" });
  return h(
    "form",
    {
      class: "card",
      onsubmit: async (e) => {
        e.preventDefault();
        out.replaceChildren(h("p", {}, "Replaying…"));
        try {
          const report = await api("/v1/sandbox/replay", { method: "POST", body: { candidates: [yaml.value] } });
          out.replaceChildren(replayView(report));
        } catch (exc) {
          out.replaceChildren(notice("error", `Replay refused: ${exc.message}`));
        }
      },
    },
    field("Replay a candidate pack (YAML) over past decision facts", yaml, "Nothing changes: the report says what this version would have decided differently."),
    h("button", { type: "submit" }, "Replay"),
    out,
  );
}

function replayView(report) {
  const before = report.outcomes_before || {};
  const after = report.outcomes_after || {};
  return h(
    "div",
    { class: "card" },
    h("p", { id: "replay-summary" }, `${fmtNum(report.records)} records replayed, ${fmtNum(report.changed)} would change.`),
    table(
      "Outcomes before and after",
      [
        { label: "outcome", value: (o) => outcomeLabel[o] },
        { label: "active policy", value: (o) => fmtNum(before[o] || 0), num: true },
        { label: "candidate", value: (o) => fmtNum(after[o] || 0), num: true },
      ],
      OUTCOMES,
    ),
    table(
      "What would change",
      [
        { label: "grouped by", value: (g) => g[0] },
        { label: "changed records", value: (g) => changeList(report[g[1]]) },
      ],
      [["change", "by_change"], ["corridor", "by_corridor"], ["product", "by_product"], ["exporter", "by_exporter"]],
    ),
  );
}

function cohortTable(cohorts, result, reload) {
  const suspend = (c, reasonInput) => async () => {
    result.replaceChildren();
    const reason = reasonInput.value.trim();
    try {
      const msg = actionMessage("cohort.suspend", { cohort: c.id, by: currentIdentity().participant, reason });
      await api(`/v1/sandbox/cohorts/${encodeURIComponent(c.id)}/suspend`, { method: "POST", body: { reason, ...(await approval(msg)) } });
      await reload();
      result.append(notice("ok", `Experiment ${c.id} suspended.`));
    } catch (exc) {
      result.append(notice("error", `Suspension refused: ${exc.message}`));
    }
  };
  const cap = (used, max) => (max === null || max === undefined ? `${fmtNum(used)} (no cap)` : `${fmtNum(used)} of ${fmtNum(max)} (${Math.round((100 * used) / max)} %)`);
  return table(
    "Experiments (cohorts)",
    [
      { label: "experiment", value: (c) => `${c.id}${c.title ? ` — ${c.title}` : ""}` },
      { label: "state", value: (c) => h("span", { class: `state state-${c.state}` }, c.state + (c.reason ? ` (${c.reason})` : "")) },
      { label: "members", value: (c) => c.members.join(", ") },
      { label: "scope", value: (c) => [...(c.products || []), ...(c.corridors || [])].join(", ") || "all" },
      { label: "records used", value: (c) => cap(c.flowed.records, c.caps.records) },
      { label: "individuals used", value: (c) => cap(c.flowed.individuals, c.caps.individuals) },
      { label: "window", value: (c) => `${fmtTime(c.start)} – ${fmtTime(c.end)}` },
      {
        label: "kill switch",
        value: (c) => {
          if (c.state !== "active") return "–";
          const reason = h("input", { type: "text", class: "reason", "aria-label": `Reason to suspend ${c.id}`, placeholder: "reason" });
          return h("div", { class: "decide", "data-cohort": c.id }, reason, h("button", { type: "button", class: "small danger", onclick: suspend(c, reason) }, "Suspend"));
        },
      },
    ],
    cohorts,
    { empty: "no experiment", id: "cohorts" },
  );
}

async function sandboxPage(body) {
  const result = h("div", { id: "sandbox-result", "aria-live": "polite" });
  const versions = h("div");
  const shadow = h("div");
  const cohorts = h("div");
  const reload = async () => {
    const [p, s, c] = await Promise.all([api("/v1/sandbox/policies"), api("/v1/sandbox/shadow"), api("/v1/sandbox/cohorts")]);
    versions.replaceChildren(policyTable(p, result, reload));
    shadow.replaceChildren(shadowView(s));
    cohorts.replaceChildren(cohortTable(c, result, reload));
  };
  body.append(
    result,
    section("Versions and transitions", versions, h("details", { class: "more" }, h("summary", {}, "Propose a new version"), proposeForm(result, reload))),
    section("Shadow differences", shadow),
    section("Cohorts and the kill switch", cohorts),
    section("Replay", replayForm()),
  );
  await reload();
}

export const regulatorPages = {
  "/regulator/overview": { title: "Corridors", heading: "Corridor overview", role: "regulator", render: overviewPage },
  "/regulator/thresholds": { title: "Thresholds", heading: "Thresholds per exporter", role: "regulator", render: thresholdsPage },
  "/regulator/holds": { title: "Holds", heading: "Holds queue", role: "regulator", render: holdsPage },
  "/regulator/sandbox": { title: "Sandbox", heading: "Regulatory sandbox", role: "regulator", render: sandboxPage },
};
