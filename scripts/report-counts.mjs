// Prints vitest's JSON report as the plain closing line CI reads: "N passed, M failed, K skipped".
// Several reports (vitest's and the consumer checks', which uses the same count fields) are summed;
// a report that is missing counts as one failure, so a step that crashed cannot look green.
import { existsSync, readFileSync } from "node:fs";

const files = process.argv.length > 2 ? process.argv.slice(2) : [".vitest-report.json"];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of files) {
  if (!existsSync(file)) {
    console.error(`${file}: no report (the step that writes it did not finish)`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(file, "utf8"));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
