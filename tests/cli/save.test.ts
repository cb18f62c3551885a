import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../src/cli/exit-codes.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { jsonLines, runCli } from "./cli-harness.js";

/**
 * `save` end to end: tested limits go into the per-model default files under the LM Studio home,
 * and the simulator (which honours those files as LM Studio does) then JIT-loads at the saved context.
 */

let sim: RunningSimulator;
let dir: string;
let home: string;

const configFolder = () => join(home, ".internal", "user-concrete-model-default-config");
const fileOf = (key: string) =>
  join(configFolder(), "lmstudio-community", `${key}-GGUF`, `${key}-Q4_K_M.gguf.json`);
const env = () => ({ LMSTUDIO_BASE_URL: sim.baseUrl, LMSTUDIO_GUARD_REGISTRY: join(dir, "registry.json") });
const cli = (args: string[]) => runCli(args, env());

async function unloadAll(): Promise<void> {
  for (const instance of sim.loaded())
    await fetch(sim.baseUrl.replace(/\/v1$/, "/api/v1/models/unload"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ instance_id: instance.identifier }),
    });
}

/** The context a JIT request (plain /v1 chat, no context parameter) loads the model at. */
async function jitContext(model: string): Promise<number | undefined> {
  await unloadAll();
  const response = await fetch(`${sim.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], max_tokens: 4 }),
  });
  expect(response.status).toBe(200);
  return sim.loaded().find((i) => i.modelKey === model)?.contextLength;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cli-save-"));
  home = join(dir, "lmstudio-home");
  await mkdir(home);
  sim = await startSimulator({
    port: 0,
    loadTimeScale: 0,
    lmStudioHome: home,
    models: [
      { key: "chat-small", type: "llm", maxContextLength: 8192 },
      { key: "chat-liar", type: "llm", maxContextLength: 131072, effectiveContext: 20_000 },
      { key: "chat-untested", type: "llm", maxContextLength: 32768 },
    ],
  });
  const tested = await cli(["test", "chat-small", "chat-liar", "--json"]);
  expect(tested.code, tested.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("langchain-lmstudio save", () => {
  it("refuses a model without a tested limit and writes nothing", async () => {
    const run = await cli(["save", "chat-untested", "chat-small", "--lmstudio-home", home]);
    expect(run.code).toBe(EXIT.failed);
    expect(run.stderr).toContain(
      "no tested limit for chat-untested: run `langchain-lmstudio test chat-untested` first (nothing was saved)",
    );
    expect(existsSync(configFolder())).toBe(false);
  }, 60_000);

  it("--dry-run shows the change and leaves the file as it was", async () => {
    const original = `${JSON.stringify({
      preset: "",
      operation: { fields: [{ key: "llm.prediction.temperature", value: 0.2 }] },
      load: {
        fields: [
          { key: "llm.load.llama.flashAttention", value: true },
          { key: "llm.load.contextLength", value: 4096 },
        ],
      },
      somethingNewer: { kept: [1, 2] },
    })}\n`;
    await mkdir(dirname(fileOf("chat-liar")), { recursive: true });
    await writeFile(fileOf("chat-liar"), original);
    const run = await cli(["save", "chat-liar", "--limit", "50%", "--dry-run", "--lmstudio-home", home]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^chat-liar: contextLength 4096 → \d+ \(tested \d+\) would be updated: .*chat-liar-Q4_K_M\.gguf\.json\n$/,
    );
    expect(await readFile(fileOf("chat-liar"), "utf8")).toBe(original);
    expect(existsSync(fileOf("chat-small"))).toBe(false);
  }, 60_000);

  it("saves every tested model: upserts the one key, keeps the rest, backs up, and JIT loads use it", async () => {
    expect(await jitContext("chat-small")).toBe(4096);
    const before = await readFile(fileOf("chat-liar"), "utf8");
    const run = await cli(["save", "--all", "--json", "--lmstudio-home", home]);
    expect(run.code, run.stderr).toBe(0);
    const lines = jsonLines(run.stdout);
    const byModel = new Map(lines.map((l) => [l.model, l]));
    expect([...byModel.keys()].sort()).toEqual(["chat-liar", "chat-small"]);
    expect(byModel.get("chat-small")).toMatchObject({ action: "created", tested: 8192, contextLength: 8192 });
    const liar = byModel.get("chat-liar");
    expect(liar).toMatchObject({ action: "updated", previous: 4096 });
    expect(liar?.contextLength).toBe(liar?.tested);

    const saved = JSON.parse(await readFile(fileOf("chat-liar"), "utf8"));
    expect(saved).toEqual({
      preset: "",
      operation: { fields: [{ key: "llm.prediction.temperature", value: 0.2 }] },
      load: {
        fields: [
          { key: "llm.load.llama.flashAttention", value: true },
          { key: "llm.load.contextLength", value: liar?.tested },
        ],
      },
      somethingNewer: { kept: [1, 2] },
    });
    expect(await readFile(String(liar?.backup), "utf8")).toBe(before);
    expect(String(liar?.backup).startsWith(join(home, "langchain-lmstudio", "backups"))).toBe(true);
    expect(JSON.parse(await readFile(fileOf("chat-small"), "utf8"))).toEqual({
      preset: "",
      operation: { fields: [] },
      load: { fields: [{ key: "llm.load.contextLength", value: 8192 }] },
    });
    // No temporary files are left beside the saved ones (the write is atomic, via rename).
    expect(await readdir(dirname(fileOf("chat-small")))).toEqual(["chat-small-Q4_K_M.gguf.json"]);

    expect(await jitContext("chat-small")).toBe(8192);
    expect(await jitContext("chat-liar")).toBe(liar?.tested);

    const again = await cli(["save", "chat-small", "--lmstudio-home", home]);
    expect(again.stdout).toMatch(/chat-small: contextLength 8192 → 8192 \(tested 8192\) unchanged/);
  }, 120_000);

  it("--limit as an absolute count, never above the tested limit", async () => {
    const run = await cli(["save", "chat-small", "--limit", "6000", "--lmstudio-home", home]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/chat-small: contextLength 8192 → 6000 \(tested 8192\) updated/);
    expect(await jitContext("chat-small")).toBe(6000);
    const capped = await cli(["save", "chat-small", "--limit", "100000", "--json", "--lmstudio-home", home]);
    expect(jsonLines(capped.stdout)[0]).toMatchObject({ contextLength: 8192, previous: 6000 });
  }, 60_000);

  it("leaves a corrupt or foreign file intact, says so, and exits 1", async () => {
    const corrupt = '{"load": {"fields": [ {"key": "llm.load.contextLength", "value": 4096 ';
    const foreign = '{"load": {"fields": {"llm.load.contextLength": 4096}}}\n';
    await writeFile(fileOf("chat-small"), corrupt);
    await writeFile(fileOf("chat-liar"), foreign);
    const run = await cli(["save", "--all", "--lmstudio-home", home]);
    expect(run.code).toBe(EXIT.failed);
    expect(run.stderr).toContain(`error: ${fileOf("chat-small")} was left untouched: not valid JSON (`);
    expect(run.stderr).toContain(
      `error: ${fileOf("chat-liar")} was left untouched: "load.fields" is not a list of {"key", "value"} objects. Fix or remove it`,
    );
    expect(run.stderr).toMatch(/error: 2 files left untouched/);
    expect(await readFile(fileOf("chat-small"), "utf8")).toBe(corrupt);
    expect(await readFile(fileOf("chat-liar"), "utf8")).toBe(foreign);
  }, 60_000);

  it("without an LM Studio home it says how to name one", async () => {
    const run = await runCli(["save", "--all"], { ...env(), HOME: join(dir, "empty-home") });
    expect(run.code).toBe(EXIT.failed);
    expect(run.stderr).toMatch(/no LM Studio home found .*; pass --lmstudio-home <dir>/);
  }, 30_000);
});
