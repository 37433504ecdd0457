// Authoring pages (offers, project deliverables), made smoother. Served as a file: the CSP
// allows no inline script. Everything here is an enhancement: each page works without it,
// through plain form submits that the server answers.
//
// 1. Filter boxes (form[data-filter-for]): narrow a list of choices as the user types, instead
//    of a round trip. Ticked choices stay visible so nothing chosen is hidden from view.
(function () {
  "use strict";

  function setUpFilter(form) {
    var list = document.getElementById(form.getAttribute("data-filter-for"));
    var input = form.querySelector("input[type='search']");
    if (!list || !input) { return; }
    function apply() {
      var query = input.value.trim().toLowerCase();
      Array.prototype.forEach.call(list.querySelectorAll("li[data-filter-text]"), function (item) {
        var box = item.querySelector("input[type='checkbox']");
        var matches = !query || item.getAttribute("data-filter-text").indexOf(query) !== -1;
        item.hidden = !(matches || (box && box.checked));
      });
    }
    input.addEventListener("input", apply);
    form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-filter-for]"), setUpFilter);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
