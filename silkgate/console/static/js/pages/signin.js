// Sign in: load the participant's key file; its signing key becomes a non-extractable
// WebCrypto key. Nothing is uploaded: the hub only ever sees signatures.

import { ApiError, api, hubNow, setIdentity } from "../api.js";
import { importKeyFile, rememberIdentity } from "../keys.js";
import { field, h, notice } from "../ui.js";

async function render(body, { signIn, homeFor }) {
  const file = h("input", { type: "file", accept: ".json,application/json" });
  const remember = h("input", { type: "checkbox", id: "remember" });
  const status = h("div", { id: "sign-in-status", "aria-live": "polite" });
  const form = h(
    "form",
    {
      class: "card",
      onsubmit: async (event) => {
        event.preventDefault();
        status.replaceChildren();
        const chosen = file.files && file.files[0];
        if (!chosen) {
          status.append(notice("error", "Choose your key file first."));
          return;
        }
        try {
          // The hub's clock picks the current key (and signs): learn it from its Date first.
          await api("/v1/health", { signed: false }).catch(() => null);
          const identity = await importKeyFile(await chosen.text(), hubNow() * 1000);
          const signed = await signIn(identity);
          if (remember.checked) await rememberIdentity(identity);
          window.location.hash = homeFor(signed);
        } catch (exc) {
          setIdentity(null);
          const why = exc instanceof ApiError ? `the hub refused this key: ${exc.message}` : exc.message;
          status.append(notice("error", `Not signed in: ${why}`));
        }
      },
    },
    field("Participant key file", file, "The JSON file written by `silkgate keygen` (or the demo's participant-keys/*.json)."),
    h("div", { class: "check" }, remember, h("label", { for: "remember" }, "Remember on this device (the key stays non-extractable in this browser's storage)")),
    h("button", { type: "submit", id: "sign-in-button" }, "Sign in"),
    status,
  );
  body.append(
    h(
      "p",
      {},
      "The console signs every request in your browser with your registered key, exactly as the CLI and SDK do. ",
      "Your key file is read here and never sent; only the signing key is kept, as a key this page can use but cannot read back.",
    ),
    form,
  );
}

export const signInPages = { "/sign-in": { title: "Sign in", heading: "Sign in with your key file", render } };
