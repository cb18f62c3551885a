import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CategoriesFileError } from "../../examples/categorize/categories.js";
import {
  EXIT_CODES,
  failureMessage,
  positiveNumberOption,
  UsageError,
  wholeNumberOption,
} from "../../examples/categorize/cli-input.js";
import {
  checkRedisUrl,
  QueueCategoriesError,
  RedisUrlError,
} from "../../examples/categorize/distributed-store.js";
import { LabelsFileError } from "../../examples/categorize/labels.js";

/**
 * Bad input to the demo's commands: a clear message naming the option or file, a documented
 * exit code, and no stack trace. Every case fails before anything connects, so these are quick.
 */

const MAIN = fileURLToPath(new URL("../../examples/categorize/main.ts", import.meta.url));
const WORKER = fileURLToPath(new URL("../../examples/categorize/worker.ts", import.meta.url));

function run(script: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
      env: { ...process.env, REDIS_URL: "", ...env },
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

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const STACK_LINE = /^\s+at /m;

describe("examples/categorize: bad input", () => {
  it.each([
    [["--input", "/nonexistent"], "--input /nonexistent: no such folder."],
    [["--concurrency", "abc"], '--concurrency must be a whole number of at least 1, got "abc".'],
    [["--redis", "localhost:6379"], '"localhost:6379" is not a Redis URL'],
  ])("main.ts %j exits 2 with a message", { timeout: 60_000 }, async (args, message) => {
    const result = await run(MAIN, args);
    expect(result.code).toBe(EXIT_CODES.usage);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain("Run with --help for the options.");
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(result.stdout).toBe("");
  });

  it("main.ts with an unreachable Redis exits 1 naming it", { timeout: 60_000 }, async () => {
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const result = await run(MAIN, ["--input", fileURLToPath(new URL(".", import.meta.url)), "--redis", url]);
    expect(result.code).toBe(EXIT_CODES.failed);
    expect(result.stderr).toContain(`Cannot reach Redis at ${url}`);
    expect(result.stderr).not.toMatch(STACK_LINE);
  });

  it("worker.ts with a bad --concurrency exits 2", { timeout: 60_000 }, async () => {
    const result = await run(WORKER, ["--redis", "redis://127.0.0.1:1", "--concurrency", "abc"]);
    expect(result.code).toBe(EXIT_CODES.usage);
    expect(result.stderr).toContain('--concurrency must be a whole number of at least 1, got "abc".');
    expect(result.stderr).not.toMatch(STACK_LINE);
  });

  it("option checks name the option and the value", () => {
    expect(() => wholeNumberOption("--concurrency", "0")).toThrow(
      new UsageError('--concurrency must be a whole number of at least 1, got "0".'),
    );
    expect(() => wholeNumberOption("--concurrency", "2.5")).toThrow(UsageError);
    expect(wholeNumberOption("--concurrency", "3")).toBe(3);
    expect(() => positiveNumberOption("--vote-below", "")).toThrow(UsageError);
    expect(positiveNumberOption("--vote-below", "0.75")).toBe(0.75);
    expect(() => checkRedisUrl("localhost:6379")).toThrow(RedisUrlError);
  });

  it("sorts failures into the documented exit codes", () => {
    expect(failureMessage(new UsageError("bad")).exitCode).toBe(EXIT_CODES.usage);
    expect(failureMessage(new CategoriesFileError("bad")).exitCode).toBe(EXIT_CODES.usage);
    expect(failureMessage(new LabelsFileError("bad")).exitCode).toBe(EXIT_CODES.usage);
    expect(failureMessage(new QueueCategoriesError("bad")).exitCode).toBe(EXIT_CODES.usage);
    const unknownOption = Object.assign(new TypeError("Unknown option '--x'"), {
      code: "ERR_PARSE_ARGS_UNKNOWN_OPTION",
    });
    expect(failureMessage(unknownOption)).toEqual({
      message: "Unknown option '--x'\nRun with --help for the options.",
      exitCode: EXIT_CODES.usage,
    });
    expect(failureMessage(new Error("LM Studio went away")).exitCode).toBe(EXIT_CODES.failed);
  });
});
