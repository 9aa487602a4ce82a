/* Tap-to-call on a referral's Customer Details: a progressive enhancement. Without JavaScript the
   button's form logs the call and the answer redirects to the tel: address, which opens the dialler.
   With it, the dialler opens at once (still within the tap) while the call is logged in the
   background; the result is announced in the status region (aria-live). */
(function () {
  "use strict";

  function announce(status, text) {
    // Empty first, so that the same words are announced again after a second call.
    status.textContent = "";
    window.setTimeout(function () {
      status.textContent = text;
    }, 50);
  }

  function enhance(form) {
    var status = document.getElementById(form.getAttribute("data-dial-status"));
    var tel = form.getAttribute("data-ondemand-dial");
    if (!status || tel.indexOf("tel:") !== 0) {
      return;
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var logged = window.fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        keepalive: true,
      });
      window.location.href = tel;
      logged
        .then(function (response) {
          return response.json();
        })
        .then(function (answer) {
          announce(status, answer.message);
        })
        .catch(function () {
          announce(status, form.getAttribute("data-dial-failed"));
        });
    });
  }

  document.querySelectorAll("form[data-ondemand-dial]").forEach(enhance);
})();
