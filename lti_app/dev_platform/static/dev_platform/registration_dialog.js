// The platform's side of org.imsglobal.lti.close: the tool says registration is over, so the
// "dialog" closes (here: back to the tool list). Only messages from the framed tool count.
(function () {
  var frame = document.getElementById("registration-frame");
  if (!frame) { return; }
  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow) { return; }
    var data = event.data || {};
    if (data.subject === "org.imsglobal.lti.close") {
      window.location.assign(frame.getAttribute("data-done-url"));
    }
  });
})();
