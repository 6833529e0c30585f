// The dashboard's only script: reload the page (same filters) every 30 seconds unless the
// reader unticks "live". The tables and filters work without it.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var shown = document.getElementById("refreshed");
  if (!live) { return; }
  live.checked = window.localStorage.getItem("sne-gateway-live") !== "off";
  live.addEventListener("change", function () {
    window.localStorage.setItem("sne-gateway-live", live.checked ? "on" : "off");
  });
  var seconds = 30;
  window.setInterval(function () {
    if (!live.checked) { return; }
    seconds -= 1;
    if (shown) { shown.textContent = "next refresh in " + seconds + " s"; }
    if (seconds <= 0) { window.location.reload(); }
  }, 1000);
}());
