import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";

const main = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
let sim: RunningSimulator;
let dir: string;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", main, ...args], {
    env: {
      ...process.env,
      LMSTUDIO_BASE_URL: sim.baseUrl,
      LMSTUDIO_GUARD_REGISTRY: join(dir, "registry.json"),
      NO_COLOR: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr })));
}

const jsonLines = (text: string) =>
  text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "guard-cli-"));
  sim = await startSimulator({
    port: 0,
    loadTimeScale: 0,
    models: [
      { key: "chat-small", type: "llm", maxContextLength: 8192 },
      { key: "chat-liar", type: "llm", maxContextLength: 131072, effectiveContext: 20_000 },
      { key: "chat-heavy", type: "llm", maxContextLength: 65536, loadLimit: 30_000 },
      { key: "embedder", type: "embedding", maxContextLength: 2048 },
    ],
  });
});
afterAll(async () => {
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("langchain-lmstudio guard commands", () => {
  it("test --all --json then list --json shows declared vs tested for every chat and embedding model", async () => {
    const dry = await cli(["test", "--all", "--dry-run", "--json"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(
      jsonLines(dry.stdout)
        .map((l) => l.model)
        .sort(),
    ).toEqual(["chat-heavy", "chat-liar", "chat-small", "embedder"]);
    expect(sim.loaded()).toEqual([]);

    const run = await cli(["test", "--all", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const results = jsonLines(run.stdout);
    expect(results).toHaveLength(4);
    for (const r of results)
      expect(Object.keys(r)).toEqual(
        expect.arrayContaining(["model", "declaredMax", "testedMax", "loads", "status"]),
      );
    const byModel = new Map(results.map((r) => [r.model, r]));
    expect(byModel.get("chat-small")).toMatchObject({ declaredMax: 8192, testedMax: 8192, status: "tested" });
    // Embedding models are tested too (issue 11): load at N, embed ~N tokens, a changed end moves the vector.
    expect(byModel.get("embedder")).toMatchObject({ declaredMax: 2048, testedMax: 2048, status: "tested" });
    expect(byModel.get("chat-liar")?.testedMax).toBeLessThanOrEqual(20_256);
    expect(byModel.get("chat-heavy")?.testedMax).toBeLessThanOrEqual(30_000);
    expect(sim.loaded()).toEqual([]);

    const list = await cli(["list", "--json", "--sort", "declared:desc"]);
    expect(list.code, list.stderr).toBe(0);
    const rows = jsonLines(list.stdout);
    expect(rows.map((r) => r.model)).toEqual(["chat-liar", "chat-heavy", "chat-small", "embedder"]);
    for (const row of rows) {
      expect(row.testedMax).toBe(byModel.get(row.model as string)?.testedMax);
      expect(row.declaredMax).toBe(byModel.get(row.model as string)?.declaredMax);
    }

    const table = await cli(["list"]);
    expect(table.stdout).toMatch(/model\s+size\s+declared\s+tested\s+status\s+last tested/);
    expect(table.stdout).toMatch(/chat-small\s+\S+ GB\s+8k\s+8k\s+tested/);

    const resumed = await cli(["test", "--all", "--resume", "--json"]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout.trim()).toBe("");
  }, 120_000);

  it("doctor reports the server, versions and registry, and fails when the server is down", async () => {
    const ok = await cli(["doctor", "--json"]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const checks = jsonLines(ok.stdout);
    expect(checks.map((c) => c.check)).toEqual(["http", "rest-api", "sdk", "registry"]);
    expect(String(checks.find((c) => c.check === "sdk")?.detail)).toMatch(
      /@lmstudio\/sdk 2\.0\.0 connected; LM Studio 0\.4\.21/,
    );
    const down = await cli(["doctor", "--json", "--base-url", "http://127.0.0.1:9/v1"]);
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/Cannot reach LM Studio at http:\/\/127\.0\.0\.1:9\/v1/);
  }, 60_000);

  it("infer runs a TOML prompt with placeholders at the tested context", async () => {
    const file = join(dir, "prompts.toml");
    await writeFile(
      file,
      '[templates]\ngreet = "Please repeat: hello {{name}} from {{place}}"\nplace = "the lab"\n',
    );
    const run = await cli([
      "infer",
      "templates.greet",
      "-m",
      "chat-small",
      "--prompt-file",
      file,
      "--var",
      "name=Ada",
      "--json",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const [answer] = jsonLines(run.stdout);
    expect(answer).toMatchObject({ model: "chat-small", contextLength: 8192 });
    expect(String(answer?.content)).toContain("hello Ada from {{place}}".replace("{{place}}", "the lab"));
    const missing = await cli(["infer", "templates.greet", "-m", "chat-small", "--prompt-file", file]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/unresolved placeholders: name/);
    const noFile = await cli(["infer", "x", "-m", "chat-small", "--prompt-file", join(dir, "nope.toml")]);
    expect(noFile.stderr).toMatch(/prompt file not found/);
  }, 60_000);

  it("report writes a self-contained SVG with declared and tested bars", async () => {
    const out = join(dir, "report.svg");
    const run = await cli(["report", "-o", out]);
    expect(run.code, run.stderr).toBe(0);
    const svg = await readFile(out, "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("chat-liar");
    expect(svg).toMatch(/tested \d+/);
  }, 60_000);
});
