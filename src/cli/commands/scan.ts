import type { Command } from "commander";
import { freshEntry } from "../../context-guard/registry-schema.js";
import {
  formatBytes,
  formatTokens,
  type GuardCliOptions,
  openGuard,
  printJson,
  printTable,
  withGuardOptions,
} from "./guard-cli.js";

/** `scan`: record every downloaded model in the registry (declared max, size), without loading anything. */
export function registerScanCommand(program: Command): void {
  withGuardOptions(
    program.command("scan").description("record LM Studio's downloaded models in the context registry"),
  )
    .option("--json", "one JSON object per model")
    .action(async (options: GuardCliOptions & { json?: boolean }) => {
      const guard = openGuard(options);
      try {
        const models = await guard.host.listDownloaded();
        for (const model of models) {
          const identity = await guard.identityOf(model);
          await guard.registry.updateEntry(identity, (current) => ({
            ...(current ?? freshEntry(identity, { declaredMax: model.declaredMax })),
            declaredMax: model.declaredMax,
            sizeBytes: model.sizeBytes,
          }));
        }
        if (options.json)
          for (const m of models)
            printJson({
              model: m.key,
              type: m.type,
              declaredMax: m.declaredMax,
              sizeBytes: m.sizeBytes,
              format: m.format,
            });
        else
          printTable(
            ["model", "type", "size", "declared", "format"],
            models.map((m) => [
              m.key,
              m.type,
              formatBytes(m.sizeBytes),
              formatTokens(m.declaredMax),
              m.format,
            ]),
          );
      } finally {
        await guard.close();
      }
    });
}
