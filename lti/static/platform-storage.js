/* LTI Client Side postMessages: platform storage (lti.put_data / lti.get_data).
 *
 * When the LMS offers platform storage (lti_storage_target) and the browser blocks the
 * tool's cookie inside the LMS iframe, the login state is kept by the platform instead:
 *   login page  (data-mode="put"): store the state, then continue to the platform;
 *   launch page (data-mode="get"): read the state back and post the launch again with it.
 * Only answers from the platform's origin are accepted: another page framing the tool cannot
 * vouch for a state.
 */
(function () {
  "use strict";
  var el = document.getElementById("lti-storage");
  if (!el) { return; }
  var mode = el.getAttribute("data-mode");
  var state = el.getAttribute("data-state");
  var platformOrigin = el.getAttribute("data-platform-origin");
  var targetName = el.getAttribute("data-target");
  var key = "learnloop_state_" + state;

  function host() {
    return window.parent && window.parent !== window ? window.parent : window.opener;
  }

  function target() {
    var h = host();
    if (!h || targetName === "_parent") { return h; }
    try { return h.frames[targetName] || h; } catch (e) { return h; }
  }

  function send(subject, fields, onReply, onFail) {
    var id = "learnloop-" + Math.random().toString(36).slice(2);
    var done = false;
    function finish(ok, data) {
      if (done) { return; }
      done = true;
      window.removeEventListener("message", listener);
      if (ok) { onReply(data); } else { onFail(); }
    }
    function listener(event) {
      if (event.origin !== platformOrigin) { return; }
      var data = event.data;
      if (!data || data.message_id !== id || data.subject !== subject + ".response") { return; }
      finish(!data.error, data);
    }
    window.addEventListener("message", listener);
    setTimeout(function () { finish(false); }, 3000);
    var message = { subject: subject, message_id: id };
    for (var name in fields) { message[name] = fields[name]; }
    var frame = target();
    if (!frame) { finish(false); return; }
    frame.postMessage(message, platformOrigin);
  }

  if (mode === "put") {
    var next = el.getAttribute("data-next");
    var go = function () { window.location.assign(next); };
    send("lti.put_data", { key: key, value: state }, go, go);
  } else if (mode === "get") {
    var form = document.getElementById("lti-storage-form");
    send("lti.get_data", { key: key }, function (data) {
      form.elements.lti_storage_state.value = typeof data.value === "string" ? data.value : "";
      form.submit();
    }, function () {
      document.getElementById("lti-storage-failed").hidden = false;
    });
  }
})();
