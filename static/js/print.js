// Shows the detail page's Print button when JavaScript can print; the page's print styles do the rest.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-print]");
  for (var i = 0; i < buttons.length; i += 1) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function () {
      window.print();
    });
  }
})();
