// Placeholder console (the server side's; the web console replaces this directory).
// Shows that the page, its module script and a public API call work under the CSP.
const status = document.getElementById("status");
fetch("/v1/hub")
  .then((r) => r.json())
  .then((hub) => {
    status.textContent = `Hub log ${hub.log_origin}, key ${hub.key_id}`;
  })
  .catch((err) => {
    status.textContent = `The hub did not answer: ${err}`;
  });
