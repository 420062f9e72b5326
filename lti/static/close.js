/* LTI Dynamic Registration: tell the platform the registration is done (org.imsglobal.lti.close). */
(function () {
  "use strict";
  function close() {
    var host = window.opener || (window.parent !== window ? window.parent : null);
    if (host) { host.postMessage({ subject: "org.imsglobal.lti.close" }, "*"); }
  }
  var button = document.getElementById("lti-close");
  if (button) { button.addEventListener("click", close); }
  close();
})();
