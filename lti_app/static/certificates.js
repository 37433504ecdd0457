// Refreshes the certificate progress bar while certificates are being prepared.
(function () {
  "use strict";
  var boxes = document.querySelectorAll(".certificate-progress[data-polling='on']");
  boxes.forEach(function (box) {
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-progress-text]");
    var timer = window.setInterval(function () {
      fetch(box.getAttribute("data-progress-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (counts) {
          if (!counts || !bar || !text) { return; }
          bar.max = counts.total;
          bar.value = counts.issued;
          text.textContent = counts.text;  // worded by the server, in the reader's language
          if (!counts.pending) { window.clearInterval(timer); }
        })
        .catch(function () { window.clearInterval(timer); });
    }, 3000);
  });
})();
