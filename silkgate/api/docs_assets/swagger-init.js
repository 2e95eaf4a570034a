// Starts Swagger UI on /openapi.json. Kept out of docs.html so that the page's
// Content-Security-Policy (script-src 'self') holds: no inline script.
// validatorUrl: null keeps Swagger UI from asking an online validator about the document.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  window.ui = window.SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
