// Waypoint's only script: small behaviours htmx attributes cannot express
// without eval (the CSP forbids it). Everything works without it.
(function () {
  "use strict";
  var POLL_HEADER = "X-Waypoint-Poll";

  // A hidden tab does not poll; it catches up the moment it is shown again.
  document.addEventListener("htmx:confirm", function (event) {
    var headers = event.detail.elt.getAttribute("hx-headers") || "";
    if (document.hidden && headers.indexOf(POLL_HEADER) !== -1) {
      event.preventDefault();
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) return;
    document.querySelectorAll("[data-poll]").forEach(function (elt) {
      window.htmx.trigger(elt, "poll-now");
    });
  });

  // Without htmx (or before it loads) a double click must not post twice.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.submitting === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "1";
    window.setTimeout(function () { delete form.dataset.submitting; }, 8000);
  });
  // An htmx form's submit buttons are disabled while its request is in flight.
  function submitButtons(elt) {
    var form = elt.closest && elt.closest("form");
    return form ? form.querySelectorAll("button[type=submit], button:not([type])") : [];
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    submitButtons(event.detail.elt).forEach(function (button) { button.disabled = true; });
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    submitButtons(event.detail.elt).forEach(function (button) { button.disabled = false; });
    var form = event.detail.elt.closest && event.detail.elt.closest("form");
    if (form) delete form.dataset.submitting;
  });

  // Move focus to the main heading after a boosted navigation, for screen readers.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.boosted || event.detail.requestConfig && event.detail.requestConfig.boosted) {
      var main = document.getElementById("main");
      if (main) main.focus({ preventScroll: true });
    }
  });

  // The language switch comes back to the page shown now, even after an in-place
  // navigation (e.g. the family's child switcher) changed the address.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("language-switch")) return;
    var next = form.querySelector("input[name=next]");
    if (next) next.value = window.location.pathname + window.location.search;
  }, true);
})();
