import type { Command } from "commander";
import type { RegistryEntry } from "../../context-guard/registry-schema.js";
import { UsageError } from "../cli-error.js";
import {
  type Cell,
  colors,
  formatBytes,
  formatTokens,
  type GuardCliOptions,
  openRegistry,
  printJson,
  printTable,
  withGuardOptions,
} from "./guard-cli.js";

const SORTS: Record<string, (a: RegistryEntry, b: RegistryEntry) => number> = {
  model: (a, b) => a.modelKey.localeCompare(b.modelKey),
  size: (a, b) => (a.sizeBytes ?? 0) - (b.sizeBytes ?? 0),
  declared: (a, b) => a.declaredMax - b.declaredMax,
  tested: (a, b) => (a.testedMax ?? 0) - (b.testedMax ?? 0),
  date: (a, b) => (a.testedAt ?? "").localeCompare(b.testedAt ?? ""),
};

function statusCell(entry: RegistryEntry): Cell {
  const text = entry.probing ? `probing ${entry.probing.contextLength}` : entry.status;
  if (entry.status === "tested") return { text, paint: colors.green };
  if (entry.status === "failed" || entry.probing) return { text, paint: colors.red };
  return { text, paint: colors.yellow };
}

/** `list`: the registry as a table (or JSON): declared vs tested for every model. */
export function registerListCommand(program: Command): void {
  withGuardOptions(
    program.command("list").description("show declared vs tested context for every model in the registry"),
  )
    .option("--json", "one JSON object per model")
    .option("--sort <field>", `sort by ${Object.keys(SORTS).join("|")} (suffix :desc to reverse)`, "model")
    .action(async (options: GuardCliOptions & { json?: boolean; sort: string }) => {
      const [field = "model", direction] = options.sort.split(":");
      const compare = SORTS[field];
      if (!compare || (direction !== undefined && direction !== "desc" && direction !== "asc"))
        throw new UsageError(
          `invalid --sort "${options.sort}"; use one of ${Object.keys(SORTS).join(", ")}, optionally with :asc or :desc`,
        );
      const entries = (await openRegistry(options).entries()).sort(compare);
      if (direction === "desc") entries.reverse();
      if (options.json) {
        for (const e of entries) {
          printJson({
            model: e.modelKey,
            format: e.format,
            lmStudioVersion: e.lmStudioVersion,
            sizeBytes: e.sizeBytes,
            declaredMax: e.declaredMax,
            testedMax: e.testedMax ?? null,
            usablePromptTokens: e.usablePromptTokens ?? null,
            status: e.status,
            failureKind: e.failureKind ?? null,
            loads: e.loads,
            probing: e.probing?.contextLength ?? null,
            testedAt: e.testedAt ?? null,
          });
        }
        return;
      }
      printTable(
        ["model", "size", "declared", "tested", "status", "last tested"],
        entries.map((e) => [
          e.modelKey,
          formatBytes(e.sizeBytes),
          formatTokens(e.declaredMax),
          formatTokens(e.testedMax),
          statusCell(e),
          e.testedAt?.slice(0, 16).replace("T", " ") ?? "-",
        ]),
      );
    });
}
