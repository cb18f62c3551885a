import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { loadModelsFile } from "../../src/cli/commands/simulate.js";
import { getJson } from "./helpers.js";

const children: ChildProcess[] = [];

function runCli(args: string[]): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    cwd: process.cwd(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  return child;
}

function collect(child: ChildProcess): { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    out += String(d);
  });
  child.stderr?.on("data", (d) => {
    err += String(d);
  });
  return { out: () => out, err: () => err };
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
});

async function tempFile(content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sim-cli-"));
  const file = join(dir, "models.json");
  await writeFile(file, content);
  return file;
}

describe("langchain-lmstudio simulate", () => {
  test("serves both APIs on one port, prints the URLs, stops cleanly on SIGINT", async () => {
    const file = await tempFile(JSON.stringify([{ key: "tiny", type: "llm", maxContextLength: 2048 }]));
    const child = runCli(["simulate", "--port", "0", "--models", file, "--lmstudio-version", "0.4.21"]);
    const io = collect(child);
    const baseUrl = await new Promise<string>((resolve, reject) => {
      child.stdout?.on("data", () => {
        const match = /OpenAI-compatible API:\s+(\S+)/.exec(io.out());
        if (match && io.out().includes("SDK")) resolve(match[1]!);
      });
      child.once("exit", () => reject(new Error(`CLI exited early: ${io.err()}`)));
    });
    expect(io.out()).toMatch(/SDK \(LMStudioClient\):\s+ws:\/\/127\.0\.0\.1:\d+/);
    const models = await getJson(`${baseUrl}/models`);
    expect(models.body.data.map((m: { id: string }) => m.id)).toEqual(["tiny"]);
    const code = exited(child);
    child.kill("SIGINT");
    expect(await code).toBe(0);
  });

  test("a bad models.json fails with an error naming the field", async () => {
    const file = await tempFile(JSON.stringify([{ key: "x", type: "chat", maxContextLength: -1 }]));
    const child = runCli(["simulate", "--port", "0", "--models", file]);
    const io = collect(child);
    expect(await exited(child)).toBe(1);
    expect(io.err()).toMatch(/0\.type/);
    expect(io.err()).toMatch(/0\.maxContextLength/);
  });
});

describe("loadModelsFile", () => {
  test("accepts an array or {models}", async () => {
    const spec = { key: "a", type: "embedding", maxContextLength: 512, embeddingDimensions: 64 };
    expect(await loadModelsFile(await tempFile(JSON.stringify([spec])))).toEqual([spec]);
    expect(await loadModelsFile(await tempFile(JSON.stringify({ models: [spec] })))).toEqual([spec]);
  });

  test("rejects unknown fields and bad JSON clearly", async () => {
    await expect(
      loadModelsFile(
        await tempFile(JSON.stringify([{ key: "a", type: "llm", maxContextLength: 1, colour: "red" }])),
      ),
    ).rejects.toThrow(/colour/);
    await expect(loadModelsFile(await tempFile("{nope"))).rejects.toThrow(/not valid JSON/);
  });
});
