import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { formatMs, formatRatio, median, ratios, table } from "./stats.js";

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url));

interface ImportCost {
  /** Wall-clock milliseconds of the import. */
  wall: number;
  /** CPU milliseconds (user + system) the import used: less disturbed by other load on the machine. */
  cpu: number;
}

/**
 * Cold import: the first `import()` (or `require`) of an entry in a fresh Node process, timed inside
 * the child so process start-up is not counted. `langchain-lmstudio` resolves to the built package
 * through package.json `exports` (self-reference), exactly as in a user's app.
 */
async function coldImport(specifier: string, mode: "import" | "require"): Promise<ImportCost> {
  const load =
    mode === "import"
      ? `await import(${JSON.stringify(specifier)})`
      : `require(${JSON.stringify(specifier)})`;
  const script = [
    "const t = performance.now(), c = process.cpuUsage();",
    `${load};`,
    "const used = process.cpuUsage(c);",
    "console.log(JSON.stringify({ wall: performance.now() - t, cpu: (used.user + used.system) / 1000 }));",
  ].join(" ");
  const { stdout } = await run(
    process.execPath,
    [`--input-type=${mode === "import" ? "module" : "commonjs"}`, "--eval", script],
    { cwd: REPO_ROOT },
  );
  return JSON.parse(stdout) as ImportCost;
}

export async function benchImportCost(samples: number): Promise<string> {
  if (!existsSync(new URL("../dist/index.js", import.meta.url)))
    throw new Error("the import benchmark measures the built package: run `npm run build` first");
  const rows: string[][] = [];
  for (const mode of ["import", "require"] as const) {
    const ours: ImportCost[] = [];
    const openai: ImportCost[] = [];
    for (let sample = 0; sample < samples; sample += 1) {
      // Alternate which goes first so a slow moment on the shared machine does not favour one side.
      if (sample % 2 === 0) {
        ours.push(await coldImport("langchain-lmstudio", mode));
        openai.push(await coldImport("@langchain/openai", mode));
      } else {
        openai.push(await coldImport("@langchain/openai", mode));
        ours.push(await coldImport("langchain-lmstudio", mode));
      }
    }
    for (const measure of ["cpu", "wall"] as const) {
      const a = ours.map((cost) => cost[measure]);
      const b = openai.map((cost) => cost[measure]);
      rows.push([
        `${mode === "import" ? "ESM import()" : "CJS require"}, ${measure}`,
        formatMs(a),
        formatMs(b),
        `${(median(a) / median(b)).toFixed(2)}×`,
        formatRatio(ratios(a, b)),
      ]);
    }
  }
  return `Cold import of the root entry vs @langchain/openai, one fresh process per sample (${samples} per side)\n${table(
    ["", "langchain-lmstudio", "@langchain/openai", "ratio of medians", "median of paired ratios"],
    rows,
  )}`;
}
