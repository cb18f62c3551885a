import { statSync } from "node:fs";
import { resolve } from "node:path";

/** A `.env` file that exists but cannot be used (a directory, unreadable, not parseable). */
export class DotEnvFileError extends Error {
  override readonly name = "DotEnvFileError";
  constructor(
    readonly path: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${path} ${problem}`, options);
  }
}

/**
 * Reads `.env` from `directory` (default: the working directory) into process.env, as `.env.example`
 * describes. Node's own parser (no dependency); variables already set in the environment win, because
 * `process.loadEnvFile` never overwrites them. Call it before anything reads the settings (models,
 * `loadConfig()`). A missing file is not an error. Returns the file's path when one was read.
 */
export function loadDotEnv(directory: string = process.cwd()): string | undefined {
  const path = resolve(directory, ".env");
  const info = statSync(path, { throwIfNoEntry: false });
  if (info === undefined) return undefined;
  if (!info.isFile())
    throw new DotEnvFileError(path, "is not a regular file; remove it or make it a .env file");
  try {
    process.loadEnvFile(path);
  } catch (error) {
    throw new DotEnvFileError(
      path,
      `cannot be read: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
  return path;
}
