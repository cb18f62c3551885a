import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { assertFreshBuild, DIST } from "./built-package.js";

const run = promisify(execFile);
const PROBE = new URL("./fixtures/loaded-packages.mjs", import.meta.url);

/** Packages the root entry must not load: the guard's SDK and its socket, and the optional peers. */
const HEAVY = [
  "@lmstudio/sdk",
  "@lmstudio/lms-isomorphic",
  "ws",
  "sharp",
  "unpdf",
  "@napi-rs/canvas",
  "node-llama-cpp",
];

interface ProbeReport {
  before: string[];
  after?: string[];
  result?: unknown;
}

async function probe(mode: "import" | "require", file: string, action?: string): Promise<ProbeReport> {
  const args = [PROBE.pathname, mode, DIST, file, ...(action ? [action] : [])];
  const { stdout } = await run(process.execPath, args, { timeout: 60_000 });
  return JSON.parse(stdout) as ProbeReport;
}

beforeAll(assertFreshBuild);

describe("importing the built root entry", () => {
  it.each([
    ["import", "index.js"],
    ["require", "index.cjs"],
  ] as const)(
    "(%s) loads none of the heavy packages, only what @langchain/openai loads anyway",
    async (mode, file) => {
      const { before } = await probe(mode, file);
      // The probe sees real loads: the chat model's base class is among them.
      expect(before).toContain("@langchain/openai");
      for (const heavy of HEAVY) expect(before).not.toContain(heavy);
    },
  );
});

describe("the LM Studio SDK loads when it is first needed", () => {
  it("on the first guard call", async () => {
    const report = await probe("import", "context-guard/index.js", "guard-call");
    expect(report.before).not.toContain("@lmstudio/sdk");
    expect(report.after).toContain("@lmstudio/sdk");
    expect(report.result).toContain("qwen2.5-7b-instruct");
  });

  it("on the first embedding token count", async () => {
    const report = await probe("require", "index.cjs", "embedding-token-count");
    expect(report.before).not.toContain("@lmstudio/sdk");
    expect(report.after).toContain("@lmstudio/sdk");
    expect(report.result).toBe(768);
  });
});
