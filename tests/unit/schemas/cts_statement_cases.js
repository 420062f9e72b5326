// Print, as JSON, every statement the ADL LRS conformance test suite POSTs from its template
// configs (test/<dir>/configs/*.js), with the status it expects (200 or 400).
//
//   node cts_statement_cases.js <cts root> <v1_0_3|v2_0>
//
// It builds each statement with the suite's own helper (templates merged the way
// templatingSelection.js does before POSTing) and only reads the suite's files.
"use strict";
process.env.EB_NODE_COMMAND = process.env.EB_NODE_COMMAND || "1"; // helper.js: skip reading .env
const path = require("path");
const fs = require("fs");

const root = path.resolve(process.argv[2]);
const dir = process.argv[3];
process.env.DIRECTORY = dir;
process.chdir(root); // helper.js resolves "./test/<dir>/..." against the working directory
const helper = require(path.join(root, "test", "helper.js"));

const cases = [];
for (const file of fs.readdirSync(path.join(root, "test", dir, "configs")).sort()) {
  if (!file.endsWith(".js")) continue;
  for (const suite of helper.getSingleTestConfiguration(file)) {
    for (const test of suite.config) {
      let statement = test.json;
      if (test.templates) {
        const merged = helper.createTestObject(helper.convertTemplate(test.templates));
        statement = merged[Object.keys(merged)[0]];
      }
      cases.push({file, suite: suite.name, name: test.name, expect: test.expect, statement});
    }
  }
}
process.stdout.write(JSON.stringify(cases));
