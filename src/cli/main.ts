#!/usr/bin/env node
import { loadDotEnv } from "../env/dotenv.js";
import { EXIT } from "./exit-codes.js";
import { Lifetime } from "./lifetime.js";
import { escapeControl } from "./terminal-text.js";

/**
 * The `langchain-lmstudio` executable: reads .env (before any module reads the settings), wires
 * SIGINT/SIGTERM to the run's lifetime, runs the program and exits with its code. Exiting
 * explicitly also ends a run whose SDK connection would otherwise keep the process alive.
 */
async function main(): Promise<number> {
  try {
    loadDotEnv();
  } catch (error) {
    process.stderr.write(`error: ${escapeControl((error as Error).message)}\n`);
    return EXIT.usage;
  }
  const { runCli } = await import("./program.js");
  const lifetime = new Lifetime();
  process.on("SIGINT", () => lifetime.stop("SIGINT"));
  process.on("SIGTERM", () => lifetime.stop("SIGTERM"));
  return runCli(process.argv, lifetime);
}

void main().then((code) => {
  // Let stdout and stderr drain (a pipe reader may be slow), then exit.
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
});
