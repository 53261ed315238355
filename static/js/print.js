// "Print" buttons ([data-print], hidden until this runs: without JavaScript the browser's own
// Print command does the same, and the print stylesheet in goodskin.css works either way).
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
