import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Runs the CLI's real entry point (src/cli/main.ts through tsx) as a child process. */

export const CLI_MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
/** tsx's loader by absolute URL, so the CLI also runs with a working directory outside the project. */
const TSX_LOADER = new URL("../../node_modules/tsx/dist/loader.mjs", import.meta.url).href;

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  done: Promise<CliRun>;
}

/** Environment without the caller's LM Studio settings, so only what a test passes counts. */
export function cleanEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(LMSTUDIO_|LM_API_TOKEN)/.test(key)),
  );
  return { ...base, NO_COLOR: "1", ...env };
}

export function startCli(
  args: string[],
  env: Record<string, string | undefined>,
  options: { cwd?: string } = {},
): CliProcess {
  const child = spawn(process.execPath, ["--import", TSX_LOADER, CLI_MAIN, ...args], {
    env: cleanEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const done = new Promise<CliRun>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

export function runCli(
  args: string[],
  env: Record<string, string | undefined>,
  options: { cwd?: string } = {},
): Promise<CliRun> {
  return startCli(args, env, options).done;
}

export const jsonLines = (text: string): Array<Record<string, unknown>> =>
  text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Polls `check` until it returns a value (not undefined), failing after `ms`. */
export async function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
  ms: number,
  what: string,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Runs the CLI in this process (no child process start-up) with stdout and stderr captured: for
 * paths that end before any network or signal handling, such as option validation.
 */
export async function runInProcess(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { runCli: run } = await import("../../src/cli/program.js");
  const { Lifetime } = await import("../../src/cli/lifetime.js");
  let stdout = "";
  let stderr = "";
  const writes = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await run(["node", "langchain-lmstudio", ...args], new Lifetime(1000, () => undefined));
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = writes.out;
    process.stderr.write = writes.err;
  }
}
