// DOM helpers. Text always goes in as text nodes (never innerHTML), so nothing the hub or a
// file says can become markup or script.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.className = value;
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

let ids = 0;
export const uid = (prefix = "f") => `${prefix}-${++ids}`;

export const fmtNum = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("en"));

export function fmtTime(value) {
  if (!value) return "–";
  const d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z").replace(/:\d\dZ$/, "Z");
}

export const short = (id, n = 14) => (id && id.length > n ? `${id.slice(0, n)}…` : id || "–");

/** A labelled form field: {label, input} with the label bound to the input. */
export function field(label, input, hint) {
  const id = input.id || uid("in");
  input.id = id;
  const hintEl = hint ? h("span", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), input, hintEl);
}

export function notice(kind, ...text) {
  return h("p", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status" }, ...text);
}

/**
 * A table with a caption and column headers. columns: [{label, value(row), num}].
 * Wrapped so that it scrolls sideways on a phone instead of breaking the layout.
 */
export function table(caption, columns, rows, { empty = "Nothing to show.", id } = {}) {
  if (!rows.length) return h("div", { class: "table-wrap", id }, h("p", { class: "empty" }, `${caption}: ${empty}`));
  return h(
    "div",
    { class: "table-wrap", id, tabindex: "0", role: "region", "aria-label": caption },
    h(
      "table",
      {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.label)))),
      h(
        "tbody",
        {},
        rows.map((row) =>
          h(
            "tr",
            {},
            columns.map((c, i) => {
              const v = c.value(row);
              const cell = i === 0 ? "th" : "td";
              // data-label: on a phone each row becomes a card and each cell says its column.
              return h(cell, { scope: i === 0 ? "row" : null, class: c.num ? "num" : null, "data-label": c.label }, v);
            }),
          ),
        ),
      ),
    ),
  );
}

export function section(title, ...children) {
  const id = uid("sec");
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

/** Previous / next buttons for offset paging. */
export function pager({ offset, limit, shown, onPage, label = "Pages", prev = "← Newer", next = "Older →" }) {
  return h(
    "nav",
    { class: "pager", "aria-label": label },
    h("button", { type: "button", disabled: offset === 0, onclick: () => onPage(Math.max(0, offset - limit)) }, prev),
    h("span", {}, shown ? `${fmtNum(offset + 1)}–${fmtNum(offset + shown)}` : "none"),
    h("button", { type: "button", disabled: shown < limit, onclick: () => onPage(offset + limit) }, next),
  );
}

/** Save `data` as a JSON file (a blob link; nothing leaves the browser). */
export function downloadJson(name, data) {
  const blob = new Blob([`${JSON.stringify(data, null, 2)}\n`], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name, class: "visually-hidden" }, name);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export const outcomeLabel = {
  allow: "allow",
  allow_transformed: "allow (transformed)",
  hold: "hold",
  deny: "deny",
};
export const OUTCOMES = Object.keys(outcomeLabel);

export function outcomeBadges(outcomes) {
  return h(
    "span",
    { class: "badges" },
    OUTCOMES.filter((o) => outcomes && outcomes[o]).map((o) =>
      h("span", { class: `badge b-${o}` }, `${outcomeLabel[o]} ${fmtNum(outcomes[o])}`),
    ),
  );
}
