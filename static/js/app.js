// Waypoint's only script: small behaviours htmx attributes cannot express
// without eval (the CSP forbids it). Everything works without it.
(function () {
  "use strict";
  var POLL_HEADER = "X-Waypoint-Poll";
  var IDLE_HEADER = "X-Waypoint-Idle-Seconds";
  var DRAFT = "waypoint-draft:";
  var DRAFT_MAX_AGE = 12 * 3600 * 1000;
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  var some = function (list, fn) { return Array.prototype.some.call(list, fn); };

  // --- Words: the server renders them, translated, into #client-messages. ---------
  function words(name) {
    var box = document.getElementById("client-messages");
    return (box && box.getAttribute("data-" + name)) || "";
  }
  function statusMessage(status) {
    return words("status-" + status) || words(status >= 500 ? "status-5xx" : "status-4xx");
  }
  // The server's own message fragment (errors/_message.html), read as text only.
  function responseMessage(xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (type.indexOf("text/html") !== -1 && xhr.responseText) {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var found = doc.querySelector("[data-error-message]");
      if (found && found.textContent.trim()) return found.textContent.trim();
    }
    return statusMessage(xhr.status);
  }

  // --- A failed request's message, next to what made it; nothing is swapped. ---------
  function anchorFor(elt) {
    if (!elt || !elt.isConnected || elt === document.body) return null;
    var form = elt.closest("form");
    if (form && !form.closest("header")) return form;
    return elt.closest("header") ? null : elt;
  }
  function showAlert(elt, text, link) {
    var anchor = anchorFor(elt);
    var key = anchor || document.getElementById("page-alerts");
    if (!key) return null;
    var old = key.wpAlert;
    if (old && old.isConnected && old.dataset.text === text) return old;  // a poll, again
    if (old) old.remove();
    var p = document.createElement("p");
    p.className = "request-error";
    p.setAttribute("role", "alert");
    p.dataset.requestError = "";
    p.dataset.text = text;
    p.textContent = text;
    if (link) {
      var a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.text;
      p.appendChild(document.createTextNode(" "));
      p.appendChild(a);
    }
    if (!anchor) key.appendChild(p);
    else if (anchor.tagName === "FORM") anchor.insertBefore(p, anchor.firstChild);
    else anchor.parentNode.insertBefore(p, anchor);
    key.wpAlert = p;
    return p;
  }
  function clearAlert(elt) {
    var anchor = anchorFor(elt) || elt;
    if (anchor && anchor.wpAlert) { anchor.wpAlert.remove(); anchor.wpAlert = null; }
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status !== 401) showAlert(event.detail.elt, responseMessage(xhr));
  });
  document.addEventListener("htmx:sendError", function (event) {
    showAlert(event.detail.elt, words("network"));
  });
  document.addEventListener("htmx:timeout", function (event) {
    showAlert(event.detail.elt, words("timeout"));
  });
  // A link or boosted GET that fails is a page: show the server's error page.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var d = event.detail, cfg = d.requestConfig || {};
    if (d.xhr.status >= 400 && d.xhr.status !== 401 && cfg.boosted && cfg.verb === "get") {
      d.shouldSwap = true;
      d.isError = false;
    }
  });

  // --- Unsaved input: kept in this tab's sessionStorage as it is typed. ---------------
  var storage = null;
  try { storage = window.sessionStorage; } catch (e) { storage = null; }
  var SKIP_TYPES = ["hidden", "password", "file", "submit", "button", "reset", "image"];

  function owner() { return document.body.getAttribute("data-draft-owner") || ""; }
  function isDraftForm(form) {
    return form && form.tagName === "FORM" && (form.getAttribute("method") || "").toLowerCase() === "post" &&
      !form.hasAttribute("data-no-draft") && !form.hasAttribute("data-sign-out") &&
      !form.classList.contains("language-switch");
  }
  function draftForms(root) {
    var forms = (root || document).querySelectorAll("form");
    return Array.prototype.filter.call(forms, isDraftForm);
  }
  function fieldsOf(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !el.disabled && el.name !== "csrf_token" &&
        SKIP_TYPES.indexOf((el.type || "").toLowerCase()) === -1;
    });
  }
  function isDirty(el) {
    if (el.type === "checkbox" || el.type === "radio") return el.checked !== el.defaultChecked;
    if (el.tagName === "SELECT") {
      var initial = 0;
      each(el.options, function (o, i) { if (o.defaultSelected && !initial) initial = i; });
      return el.selectedIndex !== initial;
    }
    return el.value !== el.defaultValue;
  }
  function formDirty(form) {
    return some(fieldsOf(form), isDirty) ||
      some(form.querySelectorAll("input[type=file]"), function (f) { return f.files && f.files.length; });
  }
  function anyDirtyForm() { return draftForms().some(formDirty); }
  function draftKey(form) {
    return DRAFT + owner() + ":" + (form.getAttribute("action") || location.pathname) + "#" + (form.id || "");
  }
  function saveDraft(form) {
    if (!storage || !owner() || !isDraftForm(form)) return;
    var key = draftKey(form);
    if (!formDirty(form)) { storage.removeItem(key); return; }
    var values = {};
    fieldsOf(form).forEach(function (el) {
      if (el.type === "radio") { if (el.checked) values[el.name] = el.value; }
      else if (el.type === "checkbox") values[el.name + "=" + el.value] = el.checked;
      else values[el.name] = el.value;
    });
    try { storage.setItem(key, JSON.stringify({ at: Date.now(), values: values })); } catch (e) { /* full */ }
  }
  function dropDraft(form) { if (storage && isDraftForm(form)) storage.removeItem(draftKey(form)); }
  function dropAllDrafts() {
    if (!storage) return;
    for (var i = storage.length - 1; i >= 0; i--) {
      var key = storage.key(i);
      if (key && key.indexOf(DRAFT) === 0) storage.removeItem(key);
    }
  }
  // Another person's drafts (a shared device) and old ones are dropped, never shown.
  function pruneDrafts() {
    if (!storage) return;
    var mine = owner();
    for (var i = storage.length - 1; i >= 0; i--) {
      var key = storage.key(i);
      if (!key || key.indexOf(DRAFT) !== 0) continue;
      var stale = mine && key.indexOf(DRAFT + mine + ":") !== 0;
      try { stale = stale || Date.now() - JSON.parse(storage.getItem(key)).at > DRAFT_MAX_AGE; } catch (e) { stale = true; }
      if (stale) storage.removeItem(key);
    }
  }
  function restoreDrafts(root) {
    if (!storage || !owner()) return;
    draftForms(root).forEach(function (form) {
      var saved;
      try { saved = JSON.parse(storage.getItem(draftKey(form)) || "null"); } catch (e) { saved = null; }
      if (!saved || !saved.values) return;
      var values = saved.values, changed = false;
      fieldsOf(form).forEach(function (el) {
        if (isDirty(el)) return;  // what the page already holds wins (e.g. a re-shown form)
        if (el.type === "radio") {
          if (values[el.name] === el.value && !el.checked) { el.checked = true; changed = true; }
        } else if (el.type === "checkbox") {
          var k = el.name + "=" + el.value;
          if (k in values && values[k] !== el.checked) { el.checked = values[k]; changed = true; }
        } else if (el.name in values && values[el.name] !== el.value) {
          el.value = values[el.name];
          changed = true;
        }
      });
      if (changed) {
        var note = document.createElement("p");
        note.className = "flash flash-info draft-restored";
        note.setAttribute("role", "status");
        note.textContent = words("restored");
        form.insertBefore(note, form.firstChild);
      }
    });
  }
  function onEdit(event) {
    var form = event.target && event.target.form;
    if (form) saveDraft(form);
  }
  document.addEventListener("input", onEdit);
  document.addEventListener("change", onEdit);
  document.addEventListener("submit", function (event) {
    if (event.target.hasAttribute("data-sign-out")) dropAllDrafts();
    else saveDraft(event.target);
  }, true);

  // --- The session: warn before it ends; an ended one never throws typing away. --------
  var deadline = null, span = 0, ended = false;
  function setIdle(value) {
    var seconds = parseInt(value, 10);
    if (isNaN(seconds) || ended) return;
    span = Math.max(span, seconds);
    deadline = Date.now() + seconds * 1000;
    var warning = document.getElementById("idle-warning");
    if (warning) warning.hidden = true;
  }
  function signInLink(redirect) {
    var here = location.pathname + location.search;
    return { href: redirect || words("sign-in-url") + "?next=" + encodeURIComponent(here), text: words("sign-in") };
  }
  // Told the session is over (a 401): leave for sign-in unless something typed is here.
  function signedOut(redirect, elt) {
    ended = true;
    deadline = null;
    var warning = document.getElementById("idle-warning");
    if (warning) warning.hidden = true;
    draftForms().forEach(saveDraft);
    var link = signInLink(redirect);
    if (!anyDirtyForm()) { window.location.href = link.href; return; }
    var form = elt && elt.closest && elt.closest("form");
    showAlert(isDraftForm(form) ? form : null, words("signed-out"), link);
  }
  function checkSession() {
    var url = words("session-url");
    if (!url || !window.fetch) return;
    fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" }).then(function (r) {
      if (r.status === 401) signedOut(r.headers.get("HX-Redirect"), null);
      else if (r.headers.get(IDLE_HEADER) !== null) setIdle(r.headers.get(IDLE_HEADER));
    }).catch(function () { /* offline: try again on the next tick */ });
  }
  var checking = 0;
  function tick() {
    if (deadline === null || ended) return;
    var left = deadline - Date.now();
    var lead = Math.min(120000, span * 1000 / 4);  // two minutes, less for short timeouts
    var warning = document.getElementById("idle-warning");
    if (left <= 0) {
      if (Date.now() - checking > 5000) { checking = Date.now(); checkSession(); }
    } else if (left <= lead && warning && warning.hidden) {
      warning.hidden = false;
    }
  }
  // A 401 is handled here, before htmx would follow its HX-Redirect.
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status !== 401) return;
    event.preventDefault();
    signedOut(xhr.getResponseHeader("HX-Redirect"), event.detail.elt);
  });

  // --- Requests: a hidden tab does not poll; a form posts once; big files stay home. ---
  document.addEventListener("htmx:confirm", function (event) {
    var headers = event.detail.elt.getAttribute("hx-headers") || "";
    if (document.hidden && headers.indexOf(POLL_HEADER) !== -1) {
      event.preventDefault();
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) return;
    tick();
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
  // A file over the limit is not sent at all: the same words the server would answer.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt.closest && event.detail.elt.closest("form");
    var max = parseInt(document.body.getAttribute("data-max-upload-bytes"), 10);
    if (!form || !max) return;
    var tooBig = some(form.querySelectorAll("input[type=file]"), function (input) {
      return some(input.files || [], function (file) { return file.size > max; });
    });
    if (tooBig) {
      event.preventDefault();
      delete form.dataset.submitting;
      showAlert(form, statusMessage(413));
    }
  });
  // An htmx form's submit buttons are disabled while its request is in flight.
  function submitButtons(elt) {
    var form = elt.closest && elt.closest("form");
    return form ? form.querySelectorAll("button[type=submit], button:not([type])") : [];
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.defaultPrevented) return;
    submitButtons(event.detail.elt).forEach(function (button) { button.disabled = true; });
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt, xhr = event.detail.xhr;
    submitButtons(elt).forEach(function (button) { button.disabled = false; });
    var form = elt.closest && elt.closest("form");
    if (form) delete form.dataset.submitting;
    if (!xhr) return;
    if (xhr.getResponseHeader(IDLE_HEADER) !== null) setIdle(xhr.getResponseHeader(IDLE_HEADER));
    if (xhr.status >= 200 && xhr.status < 300) {
      clearAlert(elt);
      if (form) dropDraft(form);  // saved: nothing to keep
    }
  });

  // --- Focus: after a save it goes to the result, never back to <body>. ----------------
  function focusOn(elt) {
    if (!elt) return;
    if (!elt.matches("a[href], button, input, select, textarea, [tabindex]")) elt.setAttribute("tabindex", "-1");
    elt.focus({ preventScroll: false });
  }
  function resultIn(root, status) {
    var invalid = status === 422 && root.querySelector("[aria-invalid=true]");
    if (invalid) return invalid;
    var found = null;
    each(root.querySelectorAll("[role=alert], [role=status], .flash"), function (el) {
      if (!found && el.textContent.trim() && !el.closest("[hidden]")) found = el;
    });
    return found;
  }
  document.addEventListener("htmx:afterSettle", function (event) {
    var d = event.detail, cfg = d.requestConfig || {};
    var main = document.getElementById("main");
    if (d.boosted || cfg.boosted) {
      // A boosted navigation: the main heading's region, or the message it brings.
      if (main) focusOn((cfg.verb !== "get" && resultIn(main, d.xhr && d.xhr.status)) || main);
      return;
    }
    if (cfg.verb === "get" || cfg.wpFocused) return;
    // The out-of-band refresh of the page's messages (web.render) settles on its own;
    // when it brings no message the focus belongs to the main swap's result.
    if (event.target && event.target.id === "flashes" && !event.target.textContent.trim()) return;
    var active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return;
    cfg.wpFocused = true;
    var root = event.target && event.target.isConnected ? event.target : main;
    if (root) focusOn(resultIn(root, d.xhr && d.xhr.status) || root);
  });
  // A page reached after a save (HX-Redirect): focus its message, e.g. #next-step.
  function focusArrival() {
    var target = location.hash && document.getElementById(location.hash.slice(1));
    if (target && /^(status|alert)$/.test(target.getAttribute("role") || "")) { focusOn(target); return; }
    // Only a message: an empty region focused on every page load drew a focus ring.
    var flashes = document.querySelector("#main .flashes");
    if (flashes && flashes.textContent.trim()) focusOn(flashes);
  }

  // The language switch comes back to the page shown now, even after an in-place
  // navigation (e.g. the family's child switcher) changed the address.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("language-switch")) return;
    var next = form.querySelector("input[name=next]");
    if (next) next.value = window.location.pathname + window.location.search;
  }, true);

  function start() {
    pruneDrafts();
    restoreDrafts(document);
    focusArrival();
    setIdle(document.body.getAttribute("data-idle-seconds"));
    window.setInterval(tick, 1000);
  }
  document.addEventListener("htmx:afterSettle", function (event) {
    var d = event.detail;
    if ((d.boosted || (d.requestConfig && d.requestConfig.boosted)) && event.target === document.body) {
      restoreDrafts(document);
    }
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
