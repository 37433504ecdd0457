// The development LMS grows a tool's frame when the tool asks, as Canvas does: a postMessage
// {subject: "lti.frameResize", height: N} (an object, or the same as a JSON string) from the
// window inside the frame sets that frame's height. Messages from any other window are ignored.
window.addEventListener("message", function (event) {
  var data = event.data;
  if (typeof data === "string") {
    try { data = JSON.parse(data); } catch (error) { return; }
  }
  if (!data || data.subject !== "lti.frameResize") { return; }
  var height = parseInt(data.height, 10);
  if (!(height > 0)) { return; }
  Array.prototype.forEach.call(document.querySelectorAll("iframe.tool"), function (frame) {
    if (frame.contentWindow === event.source) {
      frame.style.height = height + "px";
      frame.setAttribute("data-resized-to", String(height));
    }
  });
});
