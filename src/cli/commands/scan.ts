import type { Command } from "commander";
import { freshEntry } from "../../context-guard/registry-schema.js";
import type { Lifetime } from "../lifetime.js";
import {
  formatBytes,
  formatTokens,
  type GuardCliOptions,
  printJson,
  printTable,
  withGuardOptions,
  withServer,
} from "./guard-cli.js";

/** `scan`: record every downloaded model in the registry (declared max, size), without loading anything. */
export function registerScanCommand(program: Command, lifetime: Lifetime): void {
  withGuardOptions(
    program.command("scan").description("record LM Studio's downloaded models in the context registry"),
    { defaultSeconds: 60 },
  )
    .option("--json", "one JSON object per model")
    .action(async (options: GuardCliOptions & { json?: boolean }) => {
      const models = await withServer(options, lifetime, async (guard) => {
        const downloaded = await guard.host.listDownloaded();
        for (const model of downloaded) {
          const identity = await guard.identityOf(model);
          await guard.registry.updateEntry(identity, (current) => ({
            ...(current ?? freshEntry(identity, { declaredMax: model.declaredMax })),
            declaredMax: model.declaredMax,
            sizeBytes: model.sizeBytes,
          }));
        }
        return downloaded;
      });
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
          models.map((m) => [m.key, m.type, formatBytes(m.sizeBytes), formatTokens(m.declaredMax), m.format]),
        );
    });
}
