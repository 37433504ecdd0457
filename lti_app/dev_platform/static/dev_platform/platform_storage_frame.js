// The development LMS's platform storage frame (Canvas: post_message_forwarding), per the LTI
// Client Side postMessages spec: lti.put_data / lti.get_data, each tool's keys kept apart by the
// tool's origin, answered to the asking window at its own origin. Kept in sessionStorage (this
// browser, this tab), so another browser never sees a value put here.
window.addEventListener("message", function (event) {
  var data = event.data;
  if (!data || typeof data !== "object" || !event.source) { return; }
  if (data.subject !== "lti.put_data" && data.subject !== "lti.get_data") { return; }
  var answer = {subject: data.subject + ".response", message_id: data.message_id, key: data.key};
  if (typeof data.key !== "string" || !data.key) {
    answer.error = {code: "bad_request", message: "key is missing"};
  } else {
    var slot = "lti-storage:" + event.origin + ":" + data.key;
    if (data.subject === "lti.put_data") {
      if (data.value === null || data.value === undefined) {
        window.sessionStorage.removeItem(slot);
      } else {
        window.sessionStorage.setItem(slot, String(data.value));
      }
      answer.value = data.value;
    } else {
      answer.value = window.sessionStorage.getItem(slot);
    }
  }
  event.source.postMessage(answer, event.origin);
});
