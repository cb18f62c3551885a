import type { Command } from "commander";
import {
  colors,
  formatTokens,
  type GuardCliOptions,
  openGuard,
  printJson,
  printTable,
  withGuardOptions,
} from "./guard-cli.js";

/** `status`: what is loaded right now, at which context, against what was tested. */
export function registerStatusCommand(program: Command): void {
  withGuardOptions(
    program.command("status").description("loaded models and their context vs the tested limit"),
  )
    .option("--json", "one JSON object per loaded instance")
    .action(async (options: GuardCliOptions & { json?: boolean }) => {
      const guard = openGuard(options);
      try {
        const loaded = await guard.host.listLoaded();
        const downloaded = new Map((await guard.host.listDownloaded()).map((m) => [m.key, m]));
        const rows = [];
        for (const instance of loaded) {
          const model = downloaded.get(instance.modelKey);
          const entry = model ? await guard.registry.find(await guard.identityOf(model)) : undefined;
          const tested = entry?.testedMax;
          const verdict =
            tested === undefined
              ? "untested"
              : instance.contextLength > tested
                ? "above tested"
                : instance.contextLength < tested
                  ? "below tested"
                  : "at tested";
          rows.push({
            identifier: instance.identifier,
            model: instance.modelKey,
            type: instance.type,
            contextLength: instance.contextLength,
            testedMax: tested ?? null,
            verdict,
          });
        }
        if (options.json) for (const row of rows) printJson(row);
        else
          printTable(
            ["identifier", "model", "context", "tested", "verdict"],
            rows.map((r) => [
              r.identifier,
              r.model,
              formatTokens(r.contextLength),
              formatTokens(r.testedMax ?? undefined),
              r.verdict === "above tested"
                ? colors.red(r.verdict)
                : r.verdict === "at tested"
                  ? colors.green(r.verdict)
                  : colors.yellow(r.verdict),
            ]),
          );
      } finally {
        await guard.close();
      }
    });
}
