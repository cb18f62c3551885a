import type { Command } from "commander";
import type { Lifetime } from "../lifetime.js";
import {
  colors,
  formatTokens,
  type GuardCliOptions,
  printJson,
  printTable,
  withGuardOptions,
  withServer,
} from "./guard-cli.js";

type Verdict = "untested" | "above tested" | "below tested" | "at tested";

function verdictOf(contextLength: number, tested: number | undefined): Verdict {
  if (tested === undefined) return "untested";
  if (contextLength > tested) return "above tested";
  return contextLength < tested ? "below tested" : "at tested";
}

const VERDICT_COLOURS: Record<Verdict, (text: string) => string> = {
  "above tested": colors.red,
  "at tested": colors.green,
  "below tested": colors.yellow,
  untested: colors.yellow,
};

/** `status`: what is loaded right now, at which context, against what was tested. */
export function registerStatusCommand(program: Command, lifetime: Lifetime): void {
  withGuardOptions(
    program.command("status").description("loaded models and their context vs the tested limit"),
    { defaultSeconds: 30 },
  )
    .option("--json", "one JSON object per loaded instance")
    .action(async (options: GuardCliOptions & { json?: boolean }) => {
      const rows = await withServer(options, lifetime, async (guard) => {
        const loaded = await guard.host.listLoaded();
        const downloaded = new Map((await guard.host.listDownloaded()).map((m) => [m.key, m]));
        const found = [];
        for (const instance of loaded) {
          const model = downloaded.get(instance.modelKey);
          const entry = model ? await guard.registry.find(await guard.identityOf(model)) : undefined;
          found.push({
            identifier: instance.identifier,
            model: instance.modelKey,
            type: instance.type,
            contextLength: instance.contextLength,
            testedMax: entry?.testedMax ?? null,
            verdict: verdictOf(instance.contextLength, entry?.testedMax),
          });
        }
        return found;
      });
      if (options.json) for (const row of rows) printJson(row);
      else if (rows.length === 0) process.stdout.write("no model is loaded\n");
      else
        printTable(
          ["identifier", "model", "context", "tested", "verdict"],
          rows.map((r) => [
            r.identifier,
            r.model,
            formatTokens(r.contextLength),
            formatTokens(r.testedMax ?? undefined),
            { text: r.verdict, paint: VERDICT_COLOURS[r.verdict] },
          ]),
        );
    });
}
