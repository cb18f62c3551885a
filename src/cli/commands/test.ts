import type { Command } from "commander";
import type { ContextGuard } from "../../context-guard/context-guard.js";
import { type DownloadedModel, ModelHostError } from "../../context-guard/host.js";
import type { SearchResult } from "../../context-guard/search.js";
import { CliError, UsageError } from "../cli-error.js";
import { EXIT } from "../exit-codes.js";
import type { Lifetime } from "../lifetime.js";
import { ensureReachable } from "../reachability.js";
import { escapeControl, escapeControlLine } from "../terminal-text.js";
import {
  baseUrlOf,
  formatTokens,
  type GuardCliOptions,
  printJson,
  printLine,
  warn,
  wholeNumber,
  withGuardOptions,
  withinDeadline,
  withServer,
} from "./guard-cli.js";
import {
  barReporter,
  jsonReporter,
  lineReporter,
  type TestReporter,
  type TestResultLine,
} from "./test-progress.js";

interface TestOptions extends GuardCliOptions {
  all?: boolean;
  maxLoads: number;
  resume?: boolean;
  dryRun?: boolean;
  json?: boolean;
  listTimeout: number;
}

/** The models a run tests: named or all LLMs, smallest first, minus the tested ones with --resume. */
async function selectModels(
  guard: ContextGuard,
  names: string[],
  options: TestOptions,
): Promise<DownloadedModel[]> {
  const downloaded = await guard.host.listDownloaded();
  const byKey = new Map(downloaded.map((m) => [m.key, m]));
  const missing = names.filter((n) => !byKey.has(n));
  if (missing.length > 0)
    throw new UsageError(`unknown model(s): ${missing.join(", ")} (see \`langchain-lmstudio scan\`)`);
  const chosen = options.all
    ? downloaded // LLMs and embedding models (the guard tests each kind its own way)
    : names.map((n) => byKey.get(n)).filter((m): m is DownloadedModel => m !== undefined);
  // Smaller models first: the most results soonest, and the riskiest loads last.
  const sorted = [...chosen].sort((a, b) => a.sizeBytes - b.sizeBytes);
  if (!options.resume) return sorted;
  const remaining: DownloadedModel[] = [];
  for (const m of sorted) {
    const entry = await guard.registry.find(await guard.identityOf(m));
    if (entry?.status !== "tested") remaining.push(m);
  }
  return remaining;
}

function resultLine(
  model: DownloadedModel,
  result: SearchResult | undefined,
  /** The status when there is no result: another process holds the model, the run was stopped, or LM Studio. */
  without: "busy" | "interrupted" | "incomplete",
  loadsSoFar: number,
): TestResultLine {
  return {
    model: model.key,
    declaredMax: model.declaredMax,
    testedMax: result?.testedMax ?? null,
    usablePromptTokens: result?.usablePromptTokens ?? null,
    loads: result?.loads ?? loadsSoFar,
    status: result?.status ?? without,
    failureKind: result?.failureKind ?? null,
    firstBad: result?.firstBad ?? null,
  };
}

/**
 * A forced stop (second Ctrl-C) ends the process mid-probe. Without this, the "probing N" marker
 * this process wrote would read as "N crashed the machine" on the next run; cleared, the entry
 * simply continues with --resume.
 */
function clearOwnMarkerOnForcedStop(guard: ContextGuard, model: DownloadedModel, lifetime: Lifetime) {
  return lifetime.onForcedStop(async () => {
    const identity = await guard.identityOf(model);
    const before = await guard.registry.find(identity);
    if (before?.probing?.pid !== process.pid) return;
    await guard.registry.updateEntry(identity, (entry = before) =>
      entry.probing?.pid === process.pid ? { ...entry, probing: undefined } : entry,
    );
    warn(`${model.key}: stopped mid-probe; its probe instance may still be loaded in LM Studio`);
  });
}

interface RunSummary {
  tested: number;
  untested: number;
}

async function testModels(
  guard: ContextGuard,
  models: DownloadedModel[],
  options: TestOptions,
  reporter: TestReporter,
  lifetime: Lifetime,
): Promise<RunSummary> {
  const summary: RunSummary = { tested: 0, untested: 0 };
  const restoreNotify = lifetime.notifyThrough((message) => reporter.note(message));
  // A forced stop skips the `finally` below: the bars must still give the cursor and line wrapping back.
  const forgetEnd = lifetime.onForcedStop(async () => reporter.end());
  try {
    for (const model of models) {
      if (lifetime.signal.aborted) break;
      const progress = reporter.model(model.key, options.maxLoads);
      const forget = clearOwnMarkerOnForcedStop(guard, model, lifetime);
      let result: SearchResult | undefined;
      let loadsSoFar = 0;
      let serverLost = false;
      try {
        result = await guard.test(model.key, {
          maxLoads: options.maxLoads,
          ...(options.resume ? { resume: true } : {}),
          signal: lifetime.signal,
          onProbe: (record, state) => {
            loadsSoFar = state.loads;
            progress.probe(record, state);
          },
        });
      } catch (error) {
        // LM Studio stopped answering mid-probe: the search recorded nothing for it (see below).
        if (error instanceof ModelHostError && error.kind === "disconnect") serverLost = true;
        else if (!lifetime.signal.aborted) {
          if (!(error instanceof Error && error.name === "ModelBusyError")) throw error;
          reporter.note(`warning: ${escapeControl(error.message)}`);
        }
      } finally {
        forget();
      }
      const without = serverLost ? "incomplete" : lifetime.signal.aborted ? "interrupted" : "busy";
      const line = resultLine(model, result, without, loadsSoFar);
      progress.finish(line);
      if (line.status === "tested") summary.tested += 1;
      else summary.untested += 1;
      // A lost connection: when LM Studio is gone, stop here (exit 3) instead of failing every model.
      if (serverLost || line.failureKind === "disconnect")
        await ensureReachable(baseUrlOf(options), { timeoutMs: 5000 });
    }
  } finally {
    forgetEnd();
    restoreNotify();
    reporter.end();
  }
  return summary;
}

function reporterFor(options: TestOptions, modelCount: number): TestReporter {
  if (options.json) return jsonReporter();
  if (process.stderr.isTTY) return barReporter(modelCount, Boolean(process.stdout.isTTY));
  return lineReporter();
}

function printPlan(models: DownloadedModel[], options: TestOptions): void {
  for (const m of models) {
    if (options.json)
      printJson({ model: m.key, declaredMax: m.declaredMax, maxLoads: options.maxLoads, dryRun: true });
    else
      printLine(
        `would test ${escapeControlLine(m.key)} (declared ${formatTokens(m.declaredMax)}, up to ${options.maxLoads} loads)`,
      );
  }
}

/** `test`: measure each model's usable context (load, fill, recall) and record it in the registry. */
export function registerTestCommand(program: Command, lifetime: Lifetime): void {
  withGuardOptions(
    program
      .command("test")
      .description("measure the real usable context of models (loads them through the LM Studio SDK)")
      .argument("[models...]", "model keys to test"),
  )
    .option("--all", "test every downloaded LLM")
    .option("--max-loads <n>", "loads allowed per model", wholeNumber(1), 10)
    .option("--resume", "continue unfinished searches and skip models already tested")
    .option("--dry-run", "show what would be tested, load nothing")
    .option("--json", "one JSON object per model on stdout")
    .option(
      "--list-timeout <seconds>",
      "give up when LM Studio has not listed its models within this many seconds",
      wholeNumber(1),
      60,
    )
    .addHelpText(
      "after",
      "\nCtrl-C stops after the current probe (its instance is unloaded and the registry stays\n" +
        "consistent; continue with --resume). A second Ctrl-C stops at once.",
    )
    .action(async (names: string[], options: TestOptions) => {
      if (!options.all && names.length === 0) throw new UsageError("name models to test, or use --all");
      if (options.all && names.length > 0) throw new UsageError("give model names or --all, not both");
      const summary = await withServer(
        options,
        lifetime,
        async (guard) => {
          // The listing gets a bound here; each probe has its own limits in the search.
          const models = await withinDeadline(
            selectModels(guard, names, options),
            options.listTimeout,
            baseUrlOf(options),
            "list its models",
          );
          if (options.dryRun) {
            printPlan(models, options);
            return undefined;
          }
          return testModels(guard, models, options, reporterFor(options, models.length), lifetime);
        },
        "by-body",
      );
      if (lifetime.signal.aborted)
        throw new CliError(
          "interrupted: probe instances unloaded, registry left consistent; continue with --resume",
          lifetime.stopRequestedBy === "SIGTERM" ? EXIT.terminated : EXIT.interrupted,
        );
      if (summary && summary.untested > 0)
        throw new CliError(
          `${summary.untested} of ${summary.tested + summary.untested} models could not be tested`,
          EXIT.someUntested,
        );
    });
}
