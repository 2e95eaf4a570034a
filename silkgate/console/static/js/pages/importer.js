// Importer: the mailbox (pending envelopes, paged), batches delivered to it with their
// receipts, and push registration.

import { api, currentIdentity } from "../api.js";
import { field, fmtNum, fmtTime, h, notice, outcomeBadges, section, short, table } from "../ui.js";
import { batchList, receiptsView } from "./common.js";

async function mailboxPage(body) {
  const list = h("div", { id: "mailbox" });
  const pages = [null]; // the `after` cursor of each page shown
  const load = async (after) => {
    const page = await api("/v1/mailbox", { params: { after, limit: 25 } });
    list.replaceChildren(
      table(
        "Envelopes waiting for you (oldest first)",
        [
          { label: "envelope", value: (e) => h("span", { class: "mono", title: e.id }, short(e.id, 18)) },
          { label: "batch", value: (e) => h("span", { class: "mono", title: e.batch_id }, short(e.batch_id, 14)) },
          { label: "from", value: (e) => e.exporter },
          { label: "state", value: (e) => e.state },
          { label: "size", value: (e) => `${fmtNum(e.size)} B`, num: true },
          { label: "created", value: (e) => fmtTime(e.created_at) },
          { label: "expires", value: (e) => fmtTime(e.expires_at) },
        ],
        page.envelopes,
        { empty: "the mailbox is empty: everything was fetched and receipted" },
      ),
      h(
        "nav",
        { class: "pager", "aria-label": "Mailbox pages" },
        h("button", { type: "button", disabled: pages.length < 2, onclick: () => { pages.pop(); load(pages[pages.length - 1]); } }, "← Back"),
        h("button", { type: "button", disabled: page.envelopes.length < 25, onclick: () => { pages.push(page.next_after); load(page.next_after); } }, "More →"),
      ),
    );
  };
  body.append(
    h("p", {}, "Envelopes are sealed for your HPKE key: fetch and open them with `silkgate inbox` or the SDK, which also sign your receipts. The console shows their state only and keeps no HPKE key."),
    list,
  );
  await load(null);
  body.append(section("Delivered to you", h("div", { id: "incoming" })));
  await batchList(body.querySelector("#incoming"), { params: { importer: currentIdentity().participant }, caption: "Batches addressed to you" });
}

async function receiptsPage(body) {
  const me = currentIdentity().participant;
  const page = await api("/v1/batches", { params: { importer: me, limit: 50 } });
  const out = h("div", { id: "receipts-detail" });
  body.append(
    table(
      "Batches delivered to you (latest 50)",
      [
        { label: "batch", value: (b) => h("span", { class: "mono" }, b.batch_id) },
        { label: "exporter", value: (b) => b.exporter },
        { label: "decisions", value: (b) => outcomeBadges(b.outcomes) },
        {
          label: "receipts",
          value: (b) =>
            b.envelope_id
              ? h("button", { type: "button", class: "small", "aria-label": `Receipts of batch ${b.batch_id}`, onclick: async () => out.replaceChildren(h("h2", {}, `Receipts of ${b.batch_id}`), receiptsView(await api(`/v1/batches/${b.batch_id}/receipts`))) }, "Show")
              : "nothing delivered",
        },
      ],
      page.batches,
      { id: "importer-batches" },
    ),
    out,
  );
}

async function pushPage(body) {
  const state = h("div", { id: "push-state", "aria-live": "polite" });
  const url = h("input", { type: "url", id: "push-url", required: true, placeholder: "your https endpoint, e.g. carrier.example/silkgate/inbox" });
  const show = async () => {
    try {
      const p = await api("/v1/mailbox/push");
      state.replaceChildren(notice("ok", `Pushing to ${p.url} since ${fmtTime(p.created_at)}.`), h("button", { type: "button", id: "push-stop", onclick: stop }, "Stop pushing"));
    } catch (exc) {
      if (exc.status !== 404) throw exc;
      state.replaceChildren(notice("info", "No push endpoint: envelopes wait in the mailbox for you to pull."));
    }
  };
  const stop = async () => {
    await api("/v1/mailbox/push", { method: "DELETE" });
    await show();
  };
  body.append(
    state,
    h(
      "form",
      {
        class: "card",
        onsubmit: async (e) => {
          e.preventDefault();
          try {
            await api("/v1/mailbox/push", { method: "POST", body: { url: url.value.trim() } });
            await show();
          } catch (exc) {
            state.replaceChildren(notice("error", `Registration refused: ${exc.message}`));
          }
        },
      },
      field("Push endpoint URL", url, "https to a public host; the hub signs each push, and your endpoint verifies it with the hub's key."),
      h("button", { type: "submit", id: "push-register" }, "Register"),
    ),
  );
  await show();
}

export const importerPages = {
  "/importer/mailbox": { title: "Mailbox", role: "importer", render: mailboxPage },
  "/importer/receipts": { title: "Receipts", heading: "Receipts", role: "importer", render: receiptsPage },
  "/importer/push": { title: "Push", heading: "Push delivery", role: "importer", render: pushPage },
};
