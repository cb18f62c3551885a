import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv } from "../cli/cli-harness.js";

/** Every example entry point reads `.env` from the working directory first, as the CLI does. */

const TOUR = fileURLToPath(new URL("../../examples/tour/main.ts", import.meta.url));
const TSX_LOADER = new URL("../../node_modules/tsx/dist/loader.mjs", import.meta.url).href;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "example-dotenv-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function runTour(cwd: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ["--import", TSX_LOADER, TOUR], {
      cwd,
      env: cleanEnv({}),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("examples and .env", () => {
  it("a value from .env reaches the settings: a bad one is reported by name before anything runs", async () => {
    const app = join(dir, "bad-value");
    await mkdir(app);
    await writeFile(join(app, ".env"), "LMSTUDIO_MAX_TOKENS=-5\n");
    const run = await runTour(app);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/LMSTUDIO_MAX_TOKENS/);
    expect(run.stdout).not.toContain("[invoke]");
  }, 60_000);

  it("a .env that is not a file stops the example with exit 2 and its path", async () => {
    const app = join(dir, "odd");
    await mkdir(join(app, ".env"), { recursive: true });
    const run = await runTour(app);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `error: ${join(app, ".env")} is not a regular file; remove it or make it a .env file\n`,
    );
  }, 60_000);
});
