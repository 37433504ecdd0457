// The development LMS's platform storage frame (Canvas: post_message_forwarding), per the LTI
// Client Side postMessages spec: lti.put_data / lti.get_data, each tool's keys kept apart by the
// tool's origin, answered to the asking window at its own origin. Kept in this frame's memory,
// as Canvas keeps it in its page: it lasts as long as the LMS page that frames the tool, it
// needs no browser storage (blocked in third-party frames), and another browser never sees it.
(function () {
  var store = {};
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data !== "object" || !event.source) { return; }
    if (data.subject !== "lti.put_data" && data.subject !== "lti.get_data") { return; }
    var answer = {subject: data.subject + ".response", message_id: data.message_id, key: data.key};
    if (typeof data.key !== "string" || !data.key) {
      answer.error = {code: "bad_request", message: "key is missing"};
    } else {
      var slot = event.origin + " " + data.key;
      if (data.subject === "lti.put_data") {
        if (data.value === null || data.value === undefined) {
          delete store[slot];
        } else {
          store[slot] = String(data.value);
        }
        answer.value = data.value;
      } else {
        answer.value = Object.prototype.hasOwnProperty.call(store, slot) ? store[slot] : null;
      }
    }
    // For tests and curious developers: which tool origins and keys are held (never values).
    document.documentElement.setAttribute("data-stored-keys", Object.keys(store).join("\n"));
    event.source.postMessage(answer, event.origin);
  });
})();
