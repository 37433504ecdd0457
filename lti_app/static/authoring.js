// Authoring pages (offers, project deliverables), made smoother. Served as a file: the CSP
// allows no inline script. Everything here is an enhancement: each page works without it,
// through plain form submits that the server answers.
//
// 1. Filter boxes (form[data-filter-for]): narrow a list of choices as the user types, instead
//    of a round trip. Ticked choices stay visible so nothing chosen is hidden from view.
// 2. Repeatable rows ([data-repeatable="deliverables"]): "Add", "Remove", "Move up/down" are
//    submit buttons the server answers; here they act in the page instead, then every row's
//    field names are renumbered (deliverables-0-title, ...) so the saved order is the shown one.
//    Each row keeps its hidden row id, so a moved deliverable keeps its submissions.
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

  function each(nodes, fn) { Array.prototype.forEach.call(nodes, fn); }

  function setUpRows(list) {
    var prefix = list.getAttribute("data-repeatable");
    var max = parseInt(list.getAttribute("data-max"), 10) || 50;
    var template = document.getElementById("deliverable-row-template");
    var form = list.closest("form");
    var status = document.getElementById("deliverable-status");
    var addButton = form && form.querySelector("button[name='row_action'][value='add']");
    if (!template || !addButton) { return; }
    var pattern = new RegExp("^" + prefix + "-(\\d+|__index__)-");

    function rows() {
      return Array.prototype.filter.call(list.children, function (child) {
        return child.hasAttribute("data-row");
      });
    }

    function say(kind, number) {
      if (!status) { return; }
      status.textContent = (status.getAttribute("data-" + kind) || "").replace("{n}", number);
    }

    function rename(value, index) {
      return value.split(" ").map(function (token) {
        return token.replace(pattern, prefix + "-" + index + "-");
      }).join(" ");
    }

    function renumber() {
      var all = rows();
      all.forEach(function (row, index) {
        each(row.querySelectorAll("[name], [id], [for], [aria-describedby]"), function (el) {
          ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
            var value = el.getAttribute(attr);
            if (value) { el.setAttribute(attr, rename(value, index)); }
          });
        });
        each(row.querySelectorAll("[data-row-number]"), function (span) {
          span.textContent = String(index + 1);
        });
        each(row.querySelectorAll("button[data-row-action]"), function (button) {
          var action = button.getAttribute("data-row-action");
          button.value = action + "-" + index;
          button.hidden = (action === "up" && index === 0) ||
            (action === "down" && index === all.length - 1);
        });
      });
      addButton.hidden = all.length >= max;
    }

    function title(row) { return row && row.querySelector("input[id$='-title']"); }

    function clear(row) {
      each(row.querySelectorAll("input, textarea"), function (el) {
        if (el.type === "checkbox") { el.checked = true; }
        else if (el.type !== "hidden" || /-row_id$/.test(el.name)) { el.value = ""; }
      });
    }

    addButton.addEventListener("click", function (event) {
      event.preventDefault();
      if (rows().length >= max) { return; }
      var copy = template.content.firstElementChild.cloneNode(true);
      list.appendChild(copy);
      renumber();
      say("added", rows().length);
      title(copy).focus();
    });

    list.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("button[data-row-action]") : null;
      if (!button || !list.contains(button)) { return; }
      event.preventDefault();
      var row = button.closest("[data-row]");
      var all = rows();
      var index = all.indexOf(row);
      var action = button.getAttribute("data-row-action");
      if (action === "remove") {
        if (all.length === 1) { clear(row); renumber(); say("removed", 1); title(row).focus(); return; }
        list.removeChild(row);
        renumber();
        say("removed", index + 1);
        var next = rows()[Math.min(index, rows().length - 1)];
        title(next).focus();
        return;
      }
      var other = action === "up" ? all[index - 1] : all[index + 1];
      if (!other) { return; }
      if (action === "up") { list.insertBefore(row, other); } else { list.insertBefore(other, row); }
      renumber();
      say("moved", rows().indexOf(row) + 1);
      var same = row.querySelector("button[data-row-action='" + action + "']");
      (same && !same.hidden ? same : row.querySelector("button[data-row-action]:not([hidden])")).focus();
    });

    renumber();
  }

  function start() {
    each(document.querySelectorAll("form[data-filter-for]"), setUpFilter);
    each(document.querySelectorAll("[data-repeatable]"), setUpRows);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
