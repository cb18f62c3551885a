import cliProgress from "cli-progress";
import type { Command } from "commander";
import type { DownloadedModel } from "../../context-guard/host.js";
import { ModelBusyError } from "../../context-guard/journal.js";
import type { SearchResult } from "../../context-guard/search.js";
import {
  colors,
  formatTokens,
  type GuardCliOptions,
  openGuard,
  printJson,
  warn,
  withGuardOptions,
} from "./guard-cli.js";

interface TestOptions extends GuardCliOptions {
  all?: boolean;
  maxLoads: string;
  resume?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

/** Exit codes: 0 every model tested, 2 some model failed or is incomplete, 130 interrupted. */
export const EXIT_SOME_UNTESTED = 2;
export const EXIT_INTERRUPTED = 130;

/** `test`: measure each model's usable context (load, fill, recall) and record it in the registry. */
export function registerTestCommand(program: Command): void {
  withGuardOptions(
    program
      .command("test")
      .description("measure the real usable context of models (loads them through the LM Studio SDK)")
      .argument("[models...]", "model keys to test"),
  )
    .option("--all", "test every downloaded LLM")
    .option("--max-loads <n>", "loads allowed per model", "10")
    .option("--resume", "continue unfinished searches and skip models already tested")
    .option("--dry-run", "show what would be tested, load nothing")
    .option("--json", "one JSON object per model on stdout")
    .action(async (names: string[], options: TestOptions) => {
      const maxLoads = Number(options.maxLoads);
      if (!Number.isInteger(maxLoads) || maxLoads < 1)
        throw new Error("--max-loads must be a whole number ≥ 1");
      if (!options.all && names.length === 0) throw new Error("name models to test, or use --all");
      const guard = openGuard(options);
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      try {
        const downloaded = await guard.host.listDownloaded();
        const byKey = new Map(downloaded.map((m) => [m.key, m]));
        const missing = names.filter((n) => !byKey.has(n));
        if (missing.length > 0) throw new Error(`unknown model(s): ${missing.join(", ")}`);
        let models: DownloadedModel[] = options.all
          ? downloaded // LLMs and embedding models (the guard tests each kind its own way)
          : names.map((n) => byKey.get(n)).filter((m): m is DownloadedModel => m !== undefined);
        // Smaller models first: the most results soonest, and the riskiest loads last.
        models = [...models].sort((a, b) => a.sizeBytes - b.sizeBytes);
        if (options.resume) {
          const remaining: DownloadedModel[] = [];
          for (const m of models) {
            const entry = await guard.registry.find(await guard.identityOf(m));
            if (entry?.status !== "tested") remaining.push(m);
          }
          models = remaining;
        }
        if (options.dryRun) {
          for (const m of models) {
            if (options.json) printJson({ model: m.key, declaredMax: m.declaredMax, maxLoads, dryRun: true });
            else
              process.stdout.write(
                `would test ${m.key} (declared ${formatTokens(m.declaredMax)}, up to ${maxLoads} loads)\n`,
              );
          }
          return;
        }
        const bars =
          !options.json && process.stderr.isTTY
            ? new cliProgress.MultiBar(
                {
                  format: "{bar} {value}/{total} {name} {detail}",
                  clearOnComplete: false,
                  hideCursor: true,
                  stream: process.stderr,
                },
                cliProgress.Presets.shades_classic,
              )
            : undefined;
        const overall = bars?.create(models.length, 0, { name: "models", detail: "ETA {eta_formatted}" });
        let failures = 0;
        for (const model of models) {
          if (controller.signal.aborted) break;
          const bar = bars?.create(maxLoads, 0, { name: model.key, detail: "" });
          let result: SearchResult | undefined;
          try {
            result = await guard.test(model.key, {
              maxLoads,
              ...(options.resume ? { resume: true } : {}),
              signal: controller.signal,
              onProbe: (record, state) =>
                bar?.update(state.loads, {
                  detail: `${formatTokens(record.contextLength)} ${record.passed ? "ok" : record.failureKind} · good ${formatTokens(state.lastGood)} bad ${formatTokens(state.firstBad)}`,
                }),
            });
          } catch (error) {
            if (controller.signal.aborted) break;
            if (!(error instanceof ModelBusyError)) throw error;
            warn(error.message);
          }
          bar?.stop();
          overall?.increment();
          if (result?.status !== "tested") failures += 1;
          const line = {
            model: model.key,
            declaredMax: model.declaredMax,
            testedMax: result?.testedMax ?? null,
            usablePromptTokens: result?.usablePromptTokens ?? null,
            loads: result?.loads ?? 0,
            status: result?.status ?? "busy",
            failureKind: result?.failureKind ?? null,
            firstBad: result?.firstBad ?? null,
          };
          if (options.json) printJson(line);
          else if (!bars) {
            const colour = line.status === "tested" ? colors.green : colors.red;
            process.stdout.write(
              `${model.key}: declared ${formatTokens(model.declaredMax)}, tested ${formatTokens(result?.testedMax)} ` +
                `(${colour(line.status)}${line.failureKind ? `, limit: ${line.failureKind}` : ""}, ${line.loads} loads)\n`,
            );
          }
        }
        bars?.stop();
        if (controller.signal.aborted) {
          warn("interrupted: probe instances unloaded, registry left consistent; continue with --resume");
          process.exitCode = EXIT_INTERRUPTED;
        } else if (failures > 0) process.exitCode = EXIT_SOME_UNTESTED;
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        await guard.close();
      }
    });
}
