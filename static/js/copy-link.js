/* "Copy link" on the share page: a progressive enhancement. Without JavaScript the button stays hidden
   and the link is in a read-only text field the reader can select. The result is announced in the
   button's status region (aria-live). */
(function () {
  "use strict";

  function announce(status, text) {
    // Empty first, so that the same words are announced again on a second click.
    status.textContent = "";
    window.setTimeout(function () {
      status.textContent = text;
    }, 50);
  }

  function copyBySelection(input) {
    input.focus();
    input.select();
    input.setSelectionRange(0, input.value.length);
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  function copy(input) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(input.value).then(
        function () {
          return true;
        },
        function () {
          return copyBySelection(input);
        }
      );
    }
    return Promise.resolve(copyBySelection(input));
  }

  function enhance(button) {
    var input = document.getElementById(button.getAttribute("data-copy-link"));
    var status = document.getElementById(button.getAttribute("data-copy-status"));
    if (!input || !status) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(input).then(function (copied) {
        if (copied) {
          announce(status, button.getAttribute("data-copied"));
        } else {
          input.focus();
          input.select();
          announce(status, button.getAttribute("data-copy-failed"));
        }
      });
    });
  }

  document.querySelectorAll("[data-copy-link]").forEach(enhance);
})();
