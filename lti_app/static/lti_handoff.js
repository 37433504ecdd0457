// The new window a cookieless LMS frame opens (lti_storage.js, "Open Stint in a new window").
// It tells its opener (Stint's launch page in the frame, same origin) that it is ready, takes
// the launch's one-time ticket from that window only, and redeems it with a same-origin request:
// the session then starts here, first-party, where its cookie is kept. Opened in any other way
// (a link, another site's window) no ticket comes and nobody is signed in.
(function () {
  "use strict";
  var box = document.querySelector("[data-lti-handoff]");
  if (!box) { return; }
  var opener = window.opener;
  var done = false;
  var WAIT_MS = 10000;

  function fail() {
    done = true;
    box.querySelector("[data-lti-handoff-message]").hidden = true;
    box.querySelector("[data-lti-handoff-failed]").hidden = false;
  }

  if (!opener) { fail(); return; }
  var timer = window.setTimeout(function () { if (!done) { fail(); } }, WAIT_MS);

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (done || event.source !== opener || event.origin !== window.location.origin) { return; }
    if (!data || data.subject !== "stint.launch.handoff" || typeof data.handoff !== "string") {
      return;
    }
    done = true;
    window.clearTimeout(timer);
    var body = new URLSearchParams();
    body.set("handoff", data.handoff);
    fetch(box.getAttribute("data-redeem-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {"X-Stint-Launch": "1", "Accept": "application/json"},
      body: body,
    }).then(function (response) {
      if (!response.ok) { throw new Error("refused"); }
      return response.json();
    }).then(function (answer) {
      window.location.replace(answer.next);
    }).catch(fail);
  });
  opener.postMessage({subject: "stint.launch.window_ready"}, window.location.origin);
})();
