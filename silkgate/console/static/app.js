// The console's shell: hash routes, the navigation for the signed-in participant's roles,
// and sign-in state. Each page module exports a map of routes.

import { ApiError, api, currentIdentity, setIdentity } from "./js/api.js";
import { forgetIdentity, recallIdentity } from "./js/keys.js";
import { exporterPages } from "./js/pages/exporter.js";
import { importerPages } from "./js/pages/importer.js";
import { operatorPages } from "./js/pages/operator.js";
import { publicPages } from "./js/pages/public.js";
import { regulatorPages } from "./js/pages/regulator.js";
import { signInPages } from "./js/pages/signin.js";
import { h, notice } from "./js/ui.js";

const SECTIONS = [
  ["regulator", "Regulator", regulatorPages],
  ["exporter", "Exporter", exporterPages],
  ["importer", "Importer", importerPages],
  ["operator", "Operator", operatorPages],
];

const ROUTES = { ...publicPages, ...signInPages };
for (const [, , pages] of SECTIONS) Object.assign(ROUTES, pages);

const roles = () => currentIdentity()?.roles || [];

/** After a key is loaded: ask the hub who it is (and so check the key is registered). */
export async function signIn(identity) {
  setIdentity({ ...identity, roles: [] });
  try {
    const who = await api("/v1/whoami");
    if (who.id !== identity.participant) {
      throw new ApiError(403, "forbidden", `the hub knows this key as ${who.id}, not ${identity.participant}`);
    }
    setIdentity({ ...identity, roles: who.roles });
    return currentIdentity();
  } catch (exc) {
    setIdentity(null);
    throw exc;
  }
}

export async function signOut() {
  setIdentity(null);
  await forgetIdentity().catch(() => {});
  window.location.hash = "#/";
  renderNav();
}

export function homeFor(identity) {
  const first = SECTIONS.find(([role]) => identity.roles.includes(role));
  return first ? `#${Object.keys(first[2])[0]}` : "#/";
}

function link(path, text) {
  const current = (window.location.hash.slice(1) || "/") === path;
  return h("a", { href: `#${path}`, "aria-current": current ? "page" : null }, text);
}

export function renderNav() {
  const nav = document.getElementById("nav");
  const groups = [h("li", {}, link("/", "Public ledger"))];
  for (const [role, label, pages] of SECTIONS) {
    if (!roles().includes(role)) continue;
    groups.push(
      h(
        "li",
        { class: "group" },
        h("span", { class: "group-label" }, label),
        h("ul", {}, Object.entries(pages).map(([path, page]) => h("li", {}, link(path, page.title)))),
      ),
    );
  }
  nav.replaceChildren(h("ul", {}, groups));
  const who = document.getElementById("who");
  const me = currentIdentity();
  who.replaceChildren(
    me
      ? h(
          "span",
          {},
          h("span", { class: "me", title: me.keyId }, `${me.participant} (${me.roles.join(", ")})`),
          " ",
          h("button", { type: "button", class: "link", id: "sign-out", onclick: signOut }, "Sign out"),
        )
      : link("/sign-in", "Sign in"),
  );
}

export async function render(event) {
  const path = window.location.hash.slice(1) || "/";
  const page = ROUTES[path];
  const main = document.getElementById("main");
  renderNav();
  if (!page) {
    main.replaceChildren(h("h1", { tabindex: "-1" }, "Not found"), notice("error", `No page ${path}.`));
    return;
  }
  document.title = `${page.title} · silkgate console`;
  const heading = h("h1", { tabindex: "-1" }, page.heading || page.title);
  const body = h("div", { class: "page", "aria-busy": "true" });
  main.replaceChildren(heading, body);
  if (page.role && !roles().includes(page.role)) {
    body.removeAttribute("aria-busy");
    body.append(
      notice(
        "error",
        currentIdentity()
          ? `This page needs the ${page.role} role; your key (${currentIdentity().participant}) does not have it.`
          : `Sign in with the key file of a participant with the ${page.role} role to see this page.`,
      ),
      currentIdentity() ? null : h("p", {}, h("a", { href: "#/sign-in" }, "Sign in")),
    );
    return;
  }
  try {
    await page.render(body, { signIn, homeFor });
  } catch (exc) {
    body.append(notice("error", exc instanceof ApiError ? `The hub refused: ${exc.message}` : `Error: ${exc.message}`));
  } finally {
    body.removeAttribute("aria-busy");
  }
  // After a navigation (not the first load, where Tab starts at "skip to content"), move
  // focus to the new page's heading so that a screen reader announces it.
  const focusWithin = document.activeElement === document.body || document.activeElement?.closest("nav");
  if (event && focusWithin) heading.focus({ preventScroll: true });
}

async function boot() {
  try {
    const saved = await recallIdentity();
    if (saved) await signIn(saved);
  } catch {
    /* a remembered key the hub no longer accepts: start signed out */
  }
  window.addEventListener("hashchange", render);
  await render();
  document.documentElement.dataset.ready = "true";
}

boot();
