// The search page's enhancements; the page works without them.
// - The filter disclosure, closed in the HTML so that a phone shows the results first, opens on a
//   desktop-wide screen, which has room for both; on a narrower one it closes again when the search is
//   sent, since htmx replaces only the results below it.
// - The "Use my location" button, hidden without JavaScript or geolocation, fills the hidden lat/lon
//   fields and submits the form; typing a place clears them.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  if (!form) {
    return;
  }
  var filters = document.getElementById("search-filters");
  var wide = window.matchMedia("(min-width: 64em)");
  if (filters) {
    if (wide.matches) {
      filters.open = true;
    }
    form.addEventListener("submit", function () {
      if (!wide.matches) {
        filters.open = false;
      }
    });
  }
  var button = form.querySelector("[data-locate]");
  var status = document.getElementById("locate-status");
  var near = form.elements.namedItem("near");
  var lat = form.elements.namedItem("lat");
  var lon = form.elements.namedItem("lon");
  if (near) {
    near.addEventListener("input", function () {
      lat.value = "";
      lon.value = "";
    });
  }
  if (!button || !navigator.geolocation) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = button.getAttribute("data-locating");
    navigator.geolocation.getCurrentPosition(
      function (position) {
        lat.value = position.coords.latitude.toFixed(5);
        lon.value = position.coords.longitude.toFixed(5);
        near.value = "";
        status.textContent = "";
        if (form.requestSubmit) {
          form.requestSubmit();
        } else {
          form.submit();
        }
      },
      function () {
        status.textContent = button.getAttribute("data-locate-failed");
      },
      { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 }
    );
  });
})();
