// The LMS page answers lti.capabilities from the tool's frame, as Canvas does: which messages
// it supports and which frame (data-storage-frame) takes the platform storage ones.
(function () {
  var tool = document.querySelector("iframe.tool");
  var storage = document.querySelector("iframe[data-storage-frame]");
  if (!tool || !storage) { return; }
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.source !== tool.contentWindow || !data || data.subject !== "lti.capabilities") {
      return;
    }
    var frame = storage.getAttribute("name");
    event.source.postMessage({
      subject: "lti.capabilities.response",
      message_id: data.message_id,
      supported_messages: [
        {subject: "lti.capabilities"},
        {subject: "lti.frameResize"},
        {subject: "lti.put_data", frame: frame},
        {subject: "lti.get_data", frame: frame}
      ]
    }, event.origin);
  });
})();
