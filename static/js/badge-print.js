/* The badge sheet's Print button (hidden without JavaScript: Ctrl+P prints the same). */
(function () {
  "use strict";
  var button = document.querySelector("[data-print-page]");
  if (!button) return;
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
})();
