// Stint's one page script, served as a file (the Content-Security-Policy allows no inline
// script). Everything here is an enhancement: without JavaScript every page still works.
//
// 1. Focus where the user should look after a round trip: an error summary (GOV.UK pattern)
//    or a confirmation marked data-autofocus. Links in an error summary move focus to their
//    field, not only the scroll position.
// 2. Name each table cell's column, for the stacked rows tables become on a phone.
// 3. Ask the LMS to fit its frame to the page: the LTI "lti.frameResize" postMessage with the
//    content height, sent whenever that height changes. Canvas (and other LMSs that follow it)
//    grow the iframe; an LMS that ignores the message keeps its scrolling frame, nothing breaks.
(function () {
  "use strict";

  function focusFirstMarked() {
    var target = document.querySelector("[data-autofocus]");
    if (!target) { return; }
    if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
    target.focus();
    if (target.scrollIntoView) { target.scrollIntoView({ block: "center" }); }
  }

  function linkSummaryToFields() {
    document.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest(".error-summary a[href^='#']") : null;
      if (!link) { return; }
      var field = document.getElementById(link.getAttribute("href").slice(1));
      if (!field) { return; }
      event.preventDefault();
      field.focus();
      var label = document.querySelector("label[for='" + field.id + "']");
      (label || field).scrollIntoView({ block: "center" });
    });
  }

  // On a phone a table is shown as stacked rows (stint.css); each cell then says which column
  // it is from. Templates may set data-label themselves; the rest are named from the header.
  function labelTableCells() {
    var tables = document.querySelectorAll("table.table");
    Array.prototype.forEach.call(tables, function (table) {
      var headers = table.querySelectorAll("thead th");
      if (!headers.length) { return; }
      Array.prototype.forEach.call(table.querySelectorAll("tbody tr"), function (row) {
        Array.prototype.forEach.call(row.children, function (cell, index) {
          var header = headers[index];
          if (cell.tagName === "TD" && header && !cell.hasAttribute("data-label")) {
            cell.setAttribute("data-label", header.textContent.trim());
          }
        });
      });
    });
  }

  var lastHeight = 0;

  function contentHeight() {
    var doc = document.documentElement;
    var body = document.body;
    return Math.ceil(Math.max(
      body ? body.scrollHeight : 0,
      body ? body.offsetHeight : 0,
      doc.offsetHeight
    ));
  }

  function askFrameToFit() {
    if (window.parent === window) { return; }  // not in a frame: nothing to ask
    var height = contentHeight();
    if (!height || height === lastHeight) { return; }
    lastHeight = height;
    // The height is all the message says, so any embedding origin may read it.
    window.parent.postMessage({ subject: "lti.frameResize", height: height }, "*");
  }

  function watchHeight() {
    askFrameToFit();
    if (window.ResizeObserver) {
      new ResizeObserver(askFrameToFit).observe(document.body);
    } else {
      window.addEventListener("resize", askFrameToFit);
    }
    window.addEventListener("load", askFrameToFit);
  }

  function start() {
    labelTableCells();
    focusFirstMarked();
    linkSummaryToFields();
    watchHeight();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
