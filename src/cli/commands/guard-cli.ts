import { type Command, InvalidArgumentError } from "commander";
import pc from "picocolors";
import {
  ContextGuard,
  ContextRegistry,
  type ModelHostError,
  resolveRegistryPath,
  type UntestedModelPolicy,
} from "../../context-guard/index.js";
import { colorDisabled, lmStudioSettings } from "../../env/env.js";
import { LMStudioUnreachableError } from "../../lmstudio/errors.js";
import { type LMStudioSdkUnavailableError, sdkUnavailableErrorFor } from "../../lmstudio/sdk-endpoint.js";
import { CliError } from "../cli-error.js";
import { EXIT } from "../exit-codes.js";
import type { Lifetime } from "../lifetime.js";
import { ensureReachable, withoutCredentials } from "../reachability.js";
import { escapeControl, escapeControlLine, terminalJson } from "../terminal-text.js";

/**
 * What the guard's commands share: the server and registry options, a guard built from them, a
 * bounded run against the server, and output helpers (colour only on a TTY, plain columns
 * otherwise, so output can be piped and parsed; control characters always escaped).
 */

export interface GuardCliOptions {
  baseUrl?: string;
  registry?: string;
  /** Seconds; set by commands that take --timeout. */
  timeout?: number;
  /** What the guard does with a model nobody has tested (commands that clamp requests: infer). */
  untested?: UntestedModelPolicy;
}

/** Parses a whole number ≥ `min` for commander, so a bad value is a usage error naming the option. */
export function wholeNumber(min = 1): (value: string) => number {
  return (value) => {
    const trimmed = value.trim();
    const n = /^-?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`must be a whole number ≥ ${min}`);
    return n;
  };
}

/** Parses --base-url: an http(s) URL, so a typo is a usage error instead of a failed request. */
export function httpUrl(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:"))
    throw new InvalidArgumentError("must be an http(s) URL, e.g. http://localhost:1234/v1");
  return value;
}

/** Adds --base-url and --registry to a command, and --timeout when the command has an overall bound. */
export function withGuardOptions(command: Command, timeout?: { defaultSeconds: number }): Command {
  command
    .option(
      "--base-url <url>",
      "LM Studio's OpenAI-compatible URL (default: LMSTUDIO_BASE_URL or http://localhost:1234/v1)",
      httpUrl,
    )
    .option(
      "--registry <path>",
      "context registry file (default: LMSTUDIO_GUARD_REGISTRY or the LM Studio home)",
    );
  if (timeout)
    command.option(
      "--timeout <seconds>",
      "give up when LM Studio has not finished within this many seconds",
      wholeNumber(1),
      timeout.defaultSeconds,
    );
  return command;
}

export function openRegistry(options: GuardCliOptions): ContextRegistry {
  const settings = lmStudioSettings();
  return new ContextRegistry(resolveRegistryPath(options.registry, settings.guardRegistryPath), {
    onWarning: (message) => warn(message),
  });
}

export function openGuard(options: GuardCliOptions): ContextGuard {
  const settings = lmStudioSettings();
  return new ContextGuard({
    baseUrl: options.baseUrl ?? settings.baseUrl,
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
    registry: openRegistry(options),
    ...(options.untested ? { untested: options.untested } : {}),
    onWarning: (message) => warn(message),
  });
}

export function baseUrlOf(options: GuardCliOptions): string {
  return options.baseUrl ?? lmStudioSettings().baseUrl;
}

/** How long the first HTTP check may take before the server counts as unreachable. */
const REACHABILITY_TIMEOUT_MS = 5000;
/** Closing unloads what the guard loaded; a connection that stopped answering must not hold the exit. */
const CLOSE_TIMEOUT_MS = 3000;

/**
 * Runs `body` against LM Studio: an HTTP reachability check first (exit 3 with the one message
 * every command shares), then the body under the command's --timeout (also exit 3) and the
 * lifetime's stop signal, then a bounded close of the guard.
 */
export async function withServer<T>(
  options: GuardCliOptions,
  lifetime: Lifetime,
  body: (guard: ContextGuard) => Promise<T>,
  /** The body watches `lifetime.signal` and finishes its step itself (`test`); otherwise a stop ends it at once. */
  stopping: "immediate" | "by-body" = "immediate",
): Promise<T> {
  const baseUrl = baseUrlOf(options);
  const apiKey = lmStudioSettings().apiKey;
  await ensureReachable(baseUrl, {
    timeoutMs: Math.min(REACHABILITY_TIMEOUT_MS, (options.timeout ?? Number.POSITIVE_INFINITY) * 1000),
    ...(apiKey ? { apiKey } : {}),
  });
  const guard = openGuard(options);
  try {
    return await Promise.race([
      withinDeadline(
        body(guard).catch((error: unknown) => {
          throw lostConnection(error, baseUrl) ?? error;
        }),
        options.timeout,
        baseUrl,
      ),
      ...(stopping === "immediate" ? [lifetime.stopped] : []),
    ]);
  } finally {
    await boundedClose(guard);
  }
}

/** `work`, or exit 3 naming the server when it has not settled within `seconds` (no bound when undefined). */
export async function withinDeadline<T>(
  work: Promise<T>,
  seconds: number | undefined,
  baseUrl: string,
  what = "finish",
): Promise<T> {
  if (seconds === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new CliError(
            `LM Studio at ${withoutCredentials(baseUrl)} answers HTTP but did not ${what} within ${seconds} s ` +
              "(its SDK WebSocket may be stuck). Check LM Studio, or raise --timeout.",
            EXIT.unreachable,
          ),
        ),
      seconds * 1000,
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** An SDK connection that failed after the HTTP check passed: the same message as a stopped server. */
function lostConnection(
  error: unknown,
  baseUrl: string,
): LMStudioUnreachableError | LMStudioSdkUnavailableError | undefined {
  // Something answers HTTP there but refuses the SDK's socket: not LM Studio (or a /v1-only proxy).
  const notLMStudio = sdkUnavailableErrorFor(
    error,
    withoutCredentials(baseUrl),
    "This command",
    "set LMSTUDIO_BASE_URL (or --base-url) to LM Studio's server.",
  );
  if (notLMStudio) return notLMStudio;
  if (!(error instanceof Error) || error.name !== "ModelHostError") return undefined;
  const { kind, detail } = error as ModelHostError;
  return kind === "disconnect"
    ? new LMStudioUnreachableError(withoutCredentials(baseUrl), detail)
    : undefined;
}

async function boundedClose(guard: ContextGuard): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    guard.close().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
}

export const colors = pc.createColors(Boolean(process.stdout.isTTY) && !colorDisabled());
const errColors = pc.createColors(Boolean(process.stderr.isTTY) && !colorDisabled());

export function warn(message: string): void {
  process.stderr.write(`${errColors.yellow("warning:")} ${escapeControl(message)}\n`);
}

export function printError(message: string): void {
  process.stderr.write(`${errColors.red("error:")} ${escapeControl(message)}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${terminalJson(value)}\n`);
}

/** A line of text for stdout; values from outside are escaped by the caller with `escapeControlLine`. */
export function printLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** A table cell: plain text, or text with a colour applied after padding. */
export type Cell = string | { text: string; paint: (text: string) => string };

/** A plain text table: padded columns, control characters escaped, header bold only on a TTY. */
export function printTable(headers: string[], rows: Cell[][]): void {
  const texts = rows.map((row) =>
    row.map((cell) => escapeControlLine(typeof cell === "string" ? cell : cell.text)),
  );
  const widths = headers.map((h, i) => Math.max(h.length, ...texts.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[], paints: Array<((text: string) => string) | undefined>) =>
    cells
      .map((c, i) => (paints[i] ?? String)(c) + " ".repeat(Math.max(0, (widths[i] ?? 0) - c.length)))
      .join("  ")
      .trimEnd();
  process.stdout.write(`${colors.bold(line(headers, []))}\n`);
  rows.forEach((row, r) => {
    const paints = row.map((cell) => (typeof cell === "string" ? undefined : cell.paint));
    process.stdout.write(`${line(texts[r] ?? [], paints)}\n`);
  });
}

export function formatTokens(n: number | undefined): string {
  if (n === undefined) return "-";
  return n >= 1024 && n % 1024 === 0 ? `${n / 1024}k` : String(n);
}

/** Decimal units, as LM Studio shows model sizes (4 683 073 952 bytes is "4.68 GB" there). */
export function formatBytes(n: number | undefined): string {
  if (n === undefined) return "-";
  if (n < 1e9) return `${Math.round(n / 1e6)} MB`;
  return `${(n / 1e9).toFixed(1)} GB`;
}
