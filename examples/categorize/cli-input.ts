import { stat } from "node:fs/promises";
import { Redis } from "ioredis";
import { CategoriesFileError } from "./categories.js";
import { QueueCategoriesError, RedisUrlError } from "./distributed-store.js";
import { LabelsFileError } from "./labels.js";

/**
 * What the demo's commands share for bad input: one error type for anything the user typed or
 * pointed at wrongly, checks that name the option and the value, and the documented exit codes.
 * Nothing here prints a stack trace: a person reads these messages, not a debugger.
 */

export const EXIT_CODES = {
  /** Every document has a result and none failed (or the worker stopped cleanly). */
  ok: 0,
  /** The run could not go on: Redis or LM Studio unreachable, or an unexpected error. */
  failed: 1,
  /** Bad input: an option's value, a missing input folder, an invalid categories or labels file. */
  usage: 2,
  /** The run finished, but some documents have an error row in results.jsonl. */
  documentErrors: 3,
  /** Distributed run: stopped waiting before every document had a result (what was done is joined). */
  incomplete: 4,
  /** Interrupted with Ctrl-C. */
  interrupted: 130,
} as const;

export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A whole number ≥ 1, or undefined when the option was not given. */
export function wholeNumberOption(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\s*[1-9]\d*\s*$/.test(value)) {
    throw new UsageError(`${flag} must be a whole number of at least 1, got "${value}".`);
  }
  return Number(value);
}

/** A number greater than 0 (fractions allowed), or undefined when the option was not given. */
export function positiveNumberOption(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = value.trim() === "" ? Number.NaN : Number(value);
  if (!Number.isFinite(number) || number <= 0) {
    throw new UsageError(`${flag} must be a number greater than 0, got "${value}".`);
  }
  return number;
}

export async function existingFolder(flag: string, path: string): Promise<string> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === "ENOENT" ? `${flag} ${path}: no such folder.` : `${flag} ${path}: cannot be read (${code}).`,
    );
  }
  if (!isDirectory)
    throw new UsageError(`${flag} ${path} is a file; give the folder that holds the documents.`);
  return path;
}

/** Bad-input errors raised deeper down (categories, labels, Redis URL) are usage errors too. */
export function isUsageError(error: unknown): boolean {
  return (
    error instanceof UsageError ||
    error instanceof CategoriesFileError ||
    error instanceof LabelsFileError ||
    error instanceof RedisUrlError ||
    error instanceof QueueCategoriesError ||
    (error as NodeJS.ErrnoException | undefined)?.code?.startsWith("ERR_PARSE_ARGS") === true
  );
}

export class RedisUnreachableError extends Error {
  override readonly name = "RedisUnreachableError";
}

/** One PING with a short deadline, so a wrong REDIS_URL is a message instead of endless reconnects. */
export async function checkRedisReachable(url: string, timeoutMs = 3000): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new RedisUnreachableError(
      `Cannot reach Redis at ${url} (${(error as Error).message}). Start it (e.g. \`redis-server\`) or fix REDIS_URL / --redis.`,
    );
  } finally {
    redis.disconnect();
  }
}

/** Runs a command's `main` and sets the process's exit code from its result or its failure. */
export function runCommand(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const { message, exitCode } = failureMessage(error);
      console.error(message);
      process.exitCode = exitCode;
    },
  );
}

/** The one line a failed command prints, and its exit code. */
export function failureMessage(error: unknown): { message: string; exitCode: number } {
  const message = error instanceof Error ? error.message : String(error);
  if (isUsageError(error))
    return { message: `${message}\nRun with --help for the options.`, exitCode: EXIT_CODES.usage };
  return { message, exitCode: EXIT_CODES.failed };
}
