/* Post a form marked data-autosubmit (the Deep Linking response back to the LMS). */
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosubmit]");
  if (form) { form.submit(); }
})();
