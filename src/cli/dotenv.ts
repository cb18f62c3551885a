import { statSync } from "node:fs";
import { resolve } from "node:path";
import { UsageError } from "./cli-error.js";

/**
 * Reads `.env` from the working directory into process.env, as the README's `.env.example` suggests.
 * Node's own parser (no dependency); variables already set in the environment win, because
 * `process.loadEnvFile` never overwrites them. Runs before anything reads the settings.
 * Returns the file's path when one was read.
 */
export function loadDotEnv(directory: string = process.cwd()): string | undefined {
  const path = resolve(directory, ".env");
  const info = statSync(path, { throwIfNoEntry: false });
  if (info === undefined) return undefined;
  if (!info.isFile()) throw new UsageError(`${path} is not a regular file; remove it or make it a .env file`);
  try {
    process.loadEnvFile(path);
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return path;
}
