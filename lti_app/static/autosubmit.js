// Submits forms marked data-autosubmit (LTI message hand-offs). Without JavaScript the visible
// button does the same, so nothing depends on this file.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-autosubmit]");
  if (form) { form.submit(); }
});
