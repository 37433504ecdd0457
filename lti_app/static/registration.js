// LTI Dynamic Registration's last step: tell the LMS (which opened Stint in a dialog or a
// window) that registration is over, so it closes the dialog (org.imsglobal.lti.close).
// The message carries nothing secret, and the LMS page's origin is not known here (Canvas
// serves it from the school's host), hence the "*" target.
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("close-registration");
  if (!button) { return; }
  var lms = window.opener || (window.parent !== window ? window.parent : null);
  button.hidden = !lms;
  button.addEventListener("click", function () {
    if (lms) { lms.postMessage({ subject: "org.imsglobal.lti.close" }, "*"); }
  });
});
