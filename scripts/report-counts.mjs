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
  // A file that failed outside any test (a hook timeout, an import error) has no failed test to
  // count: count the file itself, so the closing line never says 0 failed for a red run.
  for (const result of report.testResults ?? []) {
    const anyTestFailed = (result.assertionResults ?? []).some((test) => test.status === "failed");
    if (result.status === "failed" && !anyTestFailed) {
      console.error(
        `${result.name}: failed outside its tests (${String(result.message ?? "").split("\n")[0]})`,
      );
      failed += 1;
    }
  }
  skipped += report.numPendingTests + report.numTodoTests;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
