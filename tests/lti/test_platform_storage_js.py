"""The platform-storage script (lti/static/platform-storage.js) in Node with a stand-in LMS frame.

It must store the state and move on, read it back and post the launch, and ignore answers
from any origin but the platform's (another page framing the tool cannot vouch for a state).
Needs ``node``; the server side of the flow is tested in test_launch_endpoint.py.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import lti

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")
SCRIPT = Path(lti.__file__).parent / "static" / "platform-storage.js"
PLATFORM = "https://lms.example"

HARNESS = r"""
const vm = require("vm");
const fs = require("fs");
const [src, mode, answerOrigin, answerValue] = process.argv.slice(1);
const attrs = {"data-mode": mode, "data-state": "S1", "data-platform-origin": "https://lms.example",
               "data-target": "post_message_forwarding", "data-next": "https://lms.example/auth?x"};
const listeners = [];
const timers = [];
const sent = [];
const form = {elements: {lti_storage_state: {value: ""}}, submitted: false,
              submit() { this.submitted = true; }};
const failed = {hidden: true};
const frame = {postMessage(message, targetOrigin) {
  sent.push({message, targetOrigin});
  const data = {subject: message.subject + ".response", message_id: message.message_id,
                key: message.key, value: answerValue};
  for (const l of listeners.slice()) l({origin: answerOrigin, data});
}};
const window = {
  opener: null,
  addEventListener: (type, l) => listeners.push(l),
  removeEventListener: (type, l) => {
    const i = listeners.indexOf(l);
    if (i >= 0) listeners.splice(i, 1);
  },
  location: {assign(url) { window.assigned = url; }},
};
window.parent = {frames: {post_message_forwarding: frame}};
const document = {getElementById: id => ({"lti-storage": {getAttribute: n => attrs[n]},
  "lti-storage-form": form, "lti-storage-failed": failed})[id]};
vm.runInNewContext(fs.readFileSync(src, "utf8"),
  {window, document, Math, setTimeout: (fn) => timers.push(fn)});
timers.forEach(fn => fn());  // the answer window closes
console.log(JSON.stringify({sent, assigned: window.assigned || null, submitted: form.submitted,
  value: form.elements.lti_storage_state.value, failed: !failed.hidden}));
"""


def run(mode, answer_origin=PLATFORM, answer_value="S1"):
    result = subprocess.run(
        [NODE, "-e", HARNESS, str(SCRIPT), mode, answer_origin, answer_value],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(result.stdout)


def test_login_stores_the_state_in_the_platform_frame_then_continues():
    out = run("put")
    [sent] = out["sent"]
    assert sent["targetOrigin"] == PLATFORM
    assert sent["message"]["subject"] == "lti.put_data"
    assert sent["message"]["key"] == "learnloop_state_S1" and sent["message"]["value"] == "S1"
    assert out["assigned"] == "https://lms.example/auth?x"


def test_launch_reads_the_state_back_and_posts_it():
    out = run("get")
    assert out["sent"][0]["message"]["subject"] == "lti.get_data"
    assert out["submitted"] and out["value"] == "S1" and not out["failed"]


def test_an_answer_from_another_origin_is_ignored():
    out = run("get", answer_origin="https://attacker.example")
    assert not out["submitted"] and out["value"] == "" and out["failed"]
