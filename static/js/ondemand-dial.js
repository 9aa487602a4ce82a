/* Tap-to-call on a referral's Customer Details: a progressive enhancement. Without JavaScript the
   "Call" button is a form that logs the call, and the answer redirects to the tel: address, which opens
   the dialler. With it, the button becomes a plain tel: link that the phone follows at once, while the
   call is logged in the background (a keepalive request, which outlives the dialler taking over); the
   result is announced in the status region (aria-live). */
(function () {
  "use strict";

  function announce(status, text) {
    // Empty first, so that the same words are announced again after a second call.
    status.textContent = "";
    window.setTimeout(function () {
      status.textContent = text;
    }, 50);
  }

  function enhance(link) {
    var form = document.getElementById(link.getAttribute("data-ondemand-dial"));
    var status = document.getElementById(link.getAttribute("data-dial-status"));
    if (!form || !status || link.protocol !== "tel:" || !window.fetch) {
      return;
    }
    form.hidden = true;
    link.hidden = false;
    link.addEventListener("click", function () {
      window
        .fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          headers: { Accept: "application/json" },
          credentials: "same-origin",
          keepalive: true,
        })
        .then(function (response) {
          return response.json();
        })
        .then(function (answer) {
          announce(status, answer.message);
        })
        .catch(function () {
          announce(status, link.getAttribute("data-dial-failed"));
        });
    });
  }

  document.querySelectorAll("a[data-ondemand-dial]").forEach(enhance);
})();
