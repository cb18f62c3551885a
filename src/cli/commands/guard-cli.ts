import type { Command } from "commander";
import pc from "picocolors";
import { ContextGuard, ContextRegistry, resolveRegistryPath } from "../../context-guard/index.js";
import { colorDisabled, lmStudioSettings } from "../../env/env.js";

/**
 * What the guard's commands share: the server and registry options, a guard built from them, and
 * output helpers (colour only on a TTY, plain columns otherwise, so output can be piped and parsed).
 */

export interface GuardCliOptions {
  baseUrl?: string;
  registry?: string;
}

/** Adds --base-url and --registry to a command. */
export function withGuardOptions(command: Command): Command {
  return command
    .option(
      "--base-url <url>",
      "LM Studio's OpenAI-compatible URL (default: LMSTUDIO_BASE_URL or http://localhost:1234/v1)",
    )
    .option(
      "--registry <path>",
      "context registry file (default: LMSTUDIO_GUARD_REGISTRY or the LM Studio home)",
    );
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
    onWarning: (message) => warn(message),
  });
}

export function baseUrlOf(options: GuardCliOptions): string {
  return options.baseUrl ?? lmStudioSettings().baseUrl;
}

export const colors = pc.createColors(Boolean(process.stdout.isTTY) && !colorDisabled());
const errColors = pc.createColors(Boolean(process.stderr.isTTY) && !colorDisabled());

export function warn(message: string): void {
  process.stderr.write(`${errColors.yellow("warning:")} ${message}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** A plain text table: padded columns, header underlined only on a TTY. */
export function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => stripAnsi(r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c + " ".repeat(Math.max(0, (widths[i] ?? 0) - stripAnsi(c).length)))
      .join("  ")
      .trimEnd();
  process.stdout.write(`${colors.bold(line(headers))}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
}

function stripAnsi(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: measuring coloured text needs the escapes removed
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}

export function formatTokens(n: number | undefined): string {
  if (n === undefined) return "-";
  return n >= 1024 && n % 1024 === 0 ? `${n / 1024}k` : String(n);
}

export function formatBytes(n: number | undefined): string {
  if (n === undefined) return "-";
  return `${(n / 1024 ** 3).toFixed(1)} GB`;
}
