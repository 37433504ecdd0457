// LTI Client Side postMessages: keep the OIDC state in the LMS's own storage (platform storage),
// so a launch is bound to the browser that started its login even where Stint's cookies are
// blocked. The login page puts the state ("put"), the launch page reads it back and proves it to
// Stint ("get"). Messages go to the frame the LMS named in lti_storage_target, only to the LMS's
// origin (its OIDC authorization endpoint), and answers from any other origin are ignored.
// Where the frame keeps no cookie (Safari), the launch page offers a new window and hands it the
// launch's one-time ticket by postMessage (the new window runs lti_handoff.js).
(function () {
  "use strict";
  var box = document.querySelector("[data-lti-storage]");
  if (!box) { return; }
  var origin = box.getAttribute("data-platform-origin");
  var targetName = box.getAttribute("data-target");
  var key = box.getAttribute("data-key");
  var TIMEOUT_MS = 3000;

  function targetFrame() {
    if (targetName === "_parent") { return window.parent; }
    try {
      return window.parent.frames[targetName] || window.top.frames[targetName] || null;
    } catch (error) {
      return null;
    }
  }

  function ask(win, targetOrigin, message) {
    // One request, one answer with the same message_id from that window, or a timeout. Data
    // goes only to the LMS's origin ("*" only for lti.capabilities, which carries none).
    return new Promise(function (resolve, reject) {
      var id = "stint-" + Math.random().toString(36).slice(2) + Date.now().toString(36);
      message.message_id = id;
      var timer = window.setTimeout(function () { finish(); reject(new Error("timeout")); },
                                    TIMEOUT_MS);
      function finish() {
        window.clearTimeout(timer);
        window.removeEventListener("message", listen);
      }
      function listen(event) {
        var data = event.data;
        if (event.source !== win || !data || data.message_id !== id) { return; }
        if (targetOrigin !== "*" && event.origin !== targetOrigin) { return; }
        if (data.subject !== message.subject + ".response") { return; }
        finish();
        if (data.error) { reject(new Error(data.error.code || "error")); } else { resolve(data); }
      }
      window.addEventListener("message", listen);
      win.postMessage(message, targetOrigin);
    });
  }

  function supported(subject) {
    // lti.capabilities goes to the parent window (the LMS page), whose origin may differ from
    // the authorization endpoint's (Canvas: the school's host and sso.canvaslms.com).
    return ask(window.parent, "*", {subject: "lti.capabilities"}).then(function (answer) {
      var found = (answer.supported_messages || []).some(function (each) {
        return each && each.subject === subject;
      });
      if (!found) { throw new Error("unsupported"); }
    });
  }

  function send(subject, fields) {
    return supported(subject).then(function () {
      var frame = targetFrame();
      if (!frame) { throw new Error("no storage frame"); }
      var message = {subject: subject, key: key};
      Object.keys(fields).forEach(function (name) { message[name] = fields[name]; });
      return ask(frame, origin, message);
    });
  }

  if (box.getAttribute("data-lti-storage") === "put") {
    send("lti.put_data", {value: box.getAttribute("data-value")}).then(function () {
      window.location.replace(box.getAttribute("data-continue-url"));
    }, function () {
      // No platform storage after all: the cookie check decides (or offers a new window).
      window.location.replace(box.getAttribute("data-fallback-url"));
    });
    return;
  }

  function fail(message) {
    box.querySelector("[data-lti-storage-message]").hidden = true;
    var failed = box.querySelector("[data-lti-storage-failed]");
    if (message) { failed.textContent = message; }
    failed.hidden = false;
  }

  function offerNewWindow(windowUrl, handoff) {
    // The frame keeps no cookie of Stint's (Safari): the session must start in a first-party
    // window. The one-time ticket goes to the window this page opens, by postMessage to
    // Stint's own origin only, once that window says it is ready; never in a URL.
    box.querySelector("[data-lti-storage-message]").hidden = true;
    var offer = box.querySelector("[data-lti-new-window]");
    var button = offer.querySelector("[data-lti-new-window-button]");
    offer.hidden = false;
    button.addEventListener("click", function () {
      var opened = null;
      function listen(event) {
        var data = event.data;
        if (!opened || event.source !== opened || event.origin !== window.location.origin) {
          return;
        }
        if (!data || data.subject !== "stint.launch.window_ready") { return; }
        window.removeEventListener("message", listen);
        opened.postMessage({subject: "stint.launch.handoff", handoff: handoff},
                           window.location.origin);
        button.disabled = true;
        offer.querySelector("[data-lti-new-window-opened]").hidden = false;
      }
      window.addEventListener("message", listen);
      opened = window.open(windowUrl, "_blank");
      if (!opened) {
        window.removeEventListener("message", listen);
        offer.querySelector("[data-lti-new-window-blocked]").hidden = false;
      }
    });
  }

  send("lti.get_data", {}).then(function (answer) {
    return typeof answer.value === "string" ? answer.value : "";
  }, function () {
    return "";  // no storage answer: Stint may still find the login's state cookie
  }).then(function (stored) {
    var body = new URLSearchParams();
    body.set("pending", box.getAttribute("data-pending"));
    body.set("stored", stored);
    return fetch(box.getAttribute("data-confirm-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {"X-Stint-Launch": "1", "Accept": "application/json"},
      body: body,
    });
  }).then(function (response) {
    return response.json().catch(function () { return {}; }).then(function (answer) {
      if (!response.ok) {
        // A refused binding keeps the page's own words; any other refusal says what it was.
        var said = answer.error === "unbound_launch" ? "" :
          [answer.message, answer.hint].filter(Boolean).join(" ");
        var refusal = new Error(said);
        refusal.fromStint = true;
        throw refusal;
      }
      return answer;
    });
  }).then(function (answer) {
    if (answer.next) {
      window.location.replace(answer.next);
    } else if (answer.handoff && answer.window) {
      offerNewWindow(answer.window, answer.handoff);
    } else {
      fail("");
    }
  }).catch(function (error) { fail(error && error.fromStint ? error.message : ""); });
})();
