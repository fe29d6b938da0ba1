/* Scan my badge: read the QR code of a sign-in badge with the camera and post it.
 * The browser's BarcodeDetector where it reads QR codes, else jsQR (static/vendor).
 * Every word shown comes from the page's data attributes (the page's language).
 * Without a camera or JavaScript the page still says what to do: class code and PIN. */
(function () {
  "use strict";
  var root = document.querySelector("[data-badge-scan]");
  if (!root) return;
  var form = document.getElementById("badge-form");
  var codeInput = root.querySelector("[data-scan-code]");
  var submit = root.querySelector("[data-scan-submit]");
  var statusLine = root.querySelector("[data-scan-status]");
  var video = root.querySelector("[data-scan-video]");
  var canvas = root.querySelector("[data-scan-canvas]");
  var PREFIX = "WPB1:";
  var sent = false;

  function say(key) { statusLine.textContent = root.getAttribute("data-" + key) || ""; }

  function badgeCode(text) {
    if (!text) return null;
    var at = text.indexOf(PREFIX);
    return at === -1 ? null : text.slice(at);
  }

  function send(code) {
    if (sent) return;
    sent = true;
    codeInput.value = code;
    say("found");
    stop();
    form.submit();
  }

  // A phone's camera app opened the badge's URL: the code is in the fragment.
  var fromUrl = badgeCode(decodeURIComponent(window.location.hash.slice(1)));
  if (fromUrl) {
    history.replaceState(null, "", window.location.pathname);
    codeInput.value = fromUrl;
    submit.hidden = false;
    return;
  }

  var stream = null;
  function stop() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
  }
  window.addEventListener("pagehide", stop);
  // A boosted link or the language switch swaps the page without unloading it.
  document.addEventListener("htmx:beforeRequest", stop);

  function jsqrReader() {
    var ctx = canvas.getContext("2d", { willReadFrequently: true });
    return function () {
      var w = video.videoWidth, h = video.videoHeight;
      if (!w || !h) return Promise.resolve(null);
      canvas.width = w;
      canvas.height = h;
      ctx.drawImage(video, 0, 0, w, h);
      var found = window.jsQR(ctx.getImageData(0, 0, w, h).data, w, h, {
        inversionAttempts: "dontInvert",
      });
      return Promise.resolve(found ? found.data : null);
    };
  }

  function detectorReader() {
    if (!("BarcodeDetector" in window) || !window.BarcodeDetector.getSupportedFormats) {
      return Promise.resolve(null);
    }
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") === -1) return null;
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return function () {
        return detector.detect(video).then(function (codes) {
          for (var i = 0; i < codes.length; i++) {
            if (badgeCode(codes[i].rawValue)) return codes[i].rawValue;
          }
          return null;
        });
      };
    }).catch(function () { return null; });
  }

  function loop(read) {
    if (sent || !stream) return;
    read().then(function (text) {
      var code = badgeCode(text);
      if (code) send(code);
      else window.setTimeout(function () { loop(read); }, 150);
    }, function () {
      window.setTimeout(function () { loop(read); }, 300);
    });
  }

  function start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      say("no-camera");
      return;
    }
    again.hidden = true;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(watch, refused);
  }

  // After a refusal the camera waits for "Scan again": the badge still in front of it
  // would be sent again and again.
  var again = root.querySelector("[data-scan-again]");
  again.addEventListener("click", start);
  if (root.hasAttribute("data-refused")) again.hidden = false;
  else start();

  function watch(s) {
    stream = s;
    video.srcObject = s;
    video.hidden = false;
    say("looking");
    return video.play().then(detectorReader).then(function (read) {
      root.setAttribute("data-reader", read ? "barcode-detector" : "jsqr");
      loop(read || jsqrReader());
    }).catch(refused);
  }

  function refused(err) {
    stop();
    var denied = err && (err.name === "NotAllowedError" || err.name === "SecurityError");
    say(denied ? "camera-refused" : "no-camera");
  }
})();
