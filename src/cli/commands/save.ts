import { copyFile, mkdir, readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import writeFileAtomic from "write-file-atomic";
import type { DownloadedModel } from "../../context-guard/host.js";
import { lmStudioHome } from "../../context-guard/registry-path.js";
import { CliError, UsageError } from "../cli-error.js";
import type { Lifetime } from "../lifetime.js";
import {
  CONFIG_FOLDER,
  configFileFor,
  emptyConfig,
  fieldValue,
  type ModelDefaultConfig,
  parseConfig,
  upsertField,
} from "../model-default-config.js";
import { escapeControlLine } from "../terminal-text.js";
import {
  type GuardCliOptions,
  printError,
  printJson,
  printLine,
  withGuardOptions,
  withServer,
} from "./guard-cli.js";

/** `--limit`: a share of the tested context (`90%`) or a token count (`16384`, never above tested). */
export type SaveLimit = { percent: number } | { tokens: number };

export function parseLimit(value: string): SaveLimit {
  const text = value.trim();
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (percent) {
    const p = Number(percent[1]);
    if (p > 0 && p <= 100) return { percent: p };
  } else if (/^\d+$/.test(text) && Number(text) >= 1 && Number.isSafeInteger(Number(text))) {
    return { tokens: Number(text) };
  }
  throw new InvalidArgumentError(
    "must be a percentage of the tested context (above 0%, at most 100%, e.g. 90%) or a token count ≥ 1",
  );
}

/** The context to save for a tested maximum. */
export function limitedContext(tested: number, limit: SaveLimit): number {
  if ("percent" in limit) return Math.max(1, Math.floor((tested * limit.percent) / 100));
  return Math.min(tested, limit.tokens);
}

interface SaveOptions extends GuardCliOptions {
  all?: boolean;
  limit: SaveLimit;
  dryRun?: boolean;
  lmstudioHome?: string;
  json?: boolean;
}

interface SavePlan {
  model: DownloadedModel;
  tested: number;
  contextLength: number;
  file: string;
}

type SaveOutcome =
  | { action: "created" | "updated" | "unchanged"; previous: unknown; backup?: string }
  | { action: "left untouched"; problem: string };

async function resolveHome(option: string | undefined): Promise<string> {
  const home = option ?? lmStudioHome();
  if (home === undefined)
    throw new CliError(
      "no LM Studio home found (~/.lmstudio or the folder in ~/.lmstudio-home-pointer); pass --lmstudio-home <dir>",
    );
  const info = await stat(home).catch(() => undefined);
  if (!info?.isDirectory()) throw new CliError(`LM Studio home ${home} is not a folder`);
  return home;
}

/** Which models to save, each with its tested limit; a named model without one is refused up front. */
async function planSaves(
  models: DownloadedModel[],
  testedOf: (model: DownloadedModel) => Promise<number | undefined>,
  names: string[],
  options: SaveOptions,
  home: string,
): Promise<SavePlan[]> {
  const byKey = new Map(models.map((m) => [m.key, m]));
  const unknown = names.filter((n) => !byKey.has(n));
  if (unknown.length > 0) throw new UsageError(`unknown model(s): ${unknown.join(", ")}`);
  const chosen = options.all
    ? models.filter((m) => m.type === "llm")
    : names.map((n) => byKey.get(n) as DownloadedModel);
  const plans: SavePlan[] = [];
  const untested: string[] = [];
  for (const model of chosen) {
    const tested = await testedOf(model);
    if (tested === undefined) {
      if (!options.all) untested.push(model.key);
      continue;
    }
    if (!model.path) throw new CliError(`LM Studio did not report the file path of ${model.key}`);
    plans.push({
      model,
      tested,
      contextLength: limitedContext(tested, options.limit),
      file: configFileFor(home, model.path),
    });
  }
  if (untested.length > 0)
    throw new CliError(
      `no tested limit for ${untested.join(", ")}: run \`langchain-lmstudio test ${untested.join(" ")}\` first (nothing was saved)`,
    );
  if (plans.length === 0)
    throw new CliError("no model has a tested limit yet: run `langchain-lmstudio test --all` first");
  return plans;
}

async function readConfig(
  file: string,
): Promise<{ existed: boolean; parsed: ReturnType<typeof parseConfig> }> {
  const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw new CliError(`cannot read ${file}: ${error.message}`);
  });
  if (text === undefined) return { existed: false, parsed: { ok: true, config: emptyConfig() } };
  return { existed: true, parsed: parseConfig(text) };
}

/** Applies one plan: backup of the old file, then an atomic write (nothing is written on a dry run). */
async function applySave(
  plan: SavePlan,
  key: string,
  options: SaveOptions,
  backupRoot: string,
): Promise<SaveOutcome> {
  const { existed, parsed } = await readConfig(plan.file);
  if (!parsed.ok) return { action: "left untouched", problem: parsed.problem };
  const previous = fieldValue(parsed.config, key);
  if (previous === plan.contextLength) return { action: "unchanged", previous };
  const next: ModelDefaultConfig = upsertField(parsed.config, key, plan.contextLength);
  const action = existed ? "updated" : "created";
  if (options.dryRun) return { action, previous };
  let backup: string | undefined;
  if (existed) {
    // The path was checked by configFileFor: it stays inside the backup folder too.
    backup = join(backupRoot, `${plan.model.path}.json`);
    await mkdir(dirname(backup), { recursive: true });
    await copyFile(plan.file, backup);
  }
  await mkdir(dirname(plan.file), { recursive: true });
  await writeFileAtomic(plan.file, `${JSON.stringify(next, null, 2)}\n`, { fsync: true });
  return { action, previous, ...(backup ? { backup } : {}) };
}

function describe(plan: SavePlan, outcome: SaveOutcome, dryRun: boolean): string {
  const model = escapeControlLine(plan.model.key);
  if (outcome.action === "left untouched") return `${model}: left ${plan.file} untouched`;
  const from = typeof outcome.previous === "number" ? String(outcome.previous) : "unset";
  const verb = dryRun && outcome.action !== "unchanged" ? `would be ${outcome.action}` : outcome.action;
  return (
    `${model}: contextLength ${from} → ${plan.contextLength} (tested ${plan.tested}) ${verb}: ${escapeControlLine(plan.file)}` +
    (outcome.action !== "unchanged" && "backup" in outcome && outcome.backup
      ? ` (backup: ${escapeControlLine(outcome.backup)})`
      : "")
  );
}

/**
 * `save`: writes each model's tested context into LM Studio's per-model default load settings, so
 * LM Studio's UI, `lms load` and JIT loads use it.
 */
export function registerSaveCommand(program: Command, lifetime: Lifetime): void {
  withGuardOptions(
    program
      .command("save")
      .description("write tested context limits into LM Studio's per-model default load settings")
      .argument("[models...]", "model keys to save (each needs a tested limit)"),
    { defaultSeconds: 60 },
  )
    .option("--all", "every model with a tested limit")
    .addOption(
      new Option(
        "--limit <limit>",
        "save this share of the tested context (90%) or this many tokens, at most the tested",
      )
        .argParser(parseLimit)
        .default({ percent: 100 } satisfies SaveLimit, "100%"),
    )
    .option("--dry-run", "show the change for each file, write nothing")
    .option(
      "--lmstudio-home <dir>",
      "LM Studio's home folder (default: ~/.lmstudio-home-pointer, else ~/.lmstudio)",
    )
    .option("--json", "one JSON object per model")
    .addHelpText(
      "after",
      `\nThe file per model is <LM Studio home>/${CONFIG_FOLDER}/\n` +
        "<model path>.json: LM Studio's internal layout, not a documented API. Only the load.fields\n" +
        "entry for the context length is changed; every other field is kept. Each file changed is\n" +
        "first copied to <LM Studio home>/langchain-lmstudio/backups/<time>/. A file that is not in\n" +
        "the expected format is left untouched and reported (exit 1).",
    )
    .action(async (names: string[], options: SaveOptions) => {
      if (!options.all && names.length === 0) throw new UsageError("name models to save, or use --all");
      if (options.all && names.length > 0) throw new UsageError("give model names or --all, not both");
      const home = await resolveHome(options.lmstudioHome);
      const plans = await withServer(options, lifetime, async (guard) => {
        const models = await guard.host.listDownloaded();
        return planSaves(
          models,
          async (model) => {
            const entry = await guard.registry.find(await guard.identityOf(model));
            return entry?.status === "tested" ? entry.testedMax : undefined;
          },
          names,
          options,
          home,
        );
      });
      const backupRoot = join(
        home,
        "langchain-lmstudio",
        "backups",
        new Date().toISOString().replace(/[:.]/g, "-"),
      );
      let untouched = 0;
      for (const plan of plans) {
        const key = `${plan.model.type}.load.contextLength`;
        const outcome = await applySave(plan, key, options, backupRoot);
        if (options.json)
          printJson({
            model: plan.model.key,
            file: plan.file,
            tested: plan.tested,
            contextLength: plan.contextLength,
            dryRun: Boolean(options.dryRun),
            ...outcome,
          });
        else printLine(describe(plan, outcome, Boolean(options.dryRun)));
        if (outcome.action === "left untouched") {
          untouched += 1;
          printError(
            `${plan.file} was left untouched: ${outcome.problem}. Fix or remove it, then save again.`,
          );
        }
      }
      if (untouched > 0)
        throw new CliError(`${untouched} file${untouched === 1 ? "" : "s"} left untouched (see above)`);
    });
}
