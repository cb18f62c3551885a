import cliProgress from "cli-progress";
import type { ProbeRecord } from "../../context-guard/registry-schema.js";
import type { SearchState } from "../../context-guard/search.js";
import { escapeControlLine } from "../terminal-text.js";
import { colors, formatTokens, printJson, printLine } from "./guard-cli.js";

/**
 * How `test` shows its progress and results: JSON lines (--json), plain result lines (output piped),
 * or progress bars on a terminal with the result lines printed above them as each model finishes.
 */

export interface TestResultLine {
  model: string;
  declaredMax: number;
  testedMax: number | null;
  usablePromptTokens: number | null;
  loads: number;
  status: string;
  failureKind: string | null;
  firstBad: number | null;
}

export interface ModelProgress {
  probe(record: ProbeRecord, state: SearchState): void;
  finish(result: TestResultLine): void;
}

export interface TestReporter {
  model(key: string, maxLoads: number): ModelProgress;
  /** A message line on stderr that does not tear the bars. */
  note(message: string): void;
  /** Leaves the screen with every visible bar complete. */
  end(): void;
}

export function resultText(line: TestResultLine): string {
  const colour = line.status === "tested" ? colors.green : colors.red;
  return (
    `${escapeControlLine(line.model)}: declared ${formatTokens(line.declaredMax)}, tested ${formatTokens(line.testedMax ?? undefined)} ` +
    `(${colour(line.status)}${line.failureKind ? `, limit: ${line.failureKind}` : ""}, ${line.loads} load${line.loads === 1 ? "" : "s"})`
  );
}

function writeStderr(message: string): void {
  process.stderr.write(message.endsWith("\n") ? message : `${message}\n`);
}

export function jsonReporter(): TestReporter {
  return {
    model: () => ({ probe: () => undefined, finish: (line) => printJson(line) }),
    note: writeStderr,
    end: () => undefined,
  };
}

export function lineReporter(): TestReporter {
  return {
    model: () => ({ probe: () => undefined, finish: (line) => printLine(resultText(line)) }),
    note: writeStderr,
    end: () => undefined,
  };
}

function probeDetail(record: ProbeRecord, state: SearchState): string {
  return (
    `${formatTokens(record.contextLength)} ${record.passed ? "ok" : (record.failureKind ?? "failed")}` +
    ` · good ${formatTokens(state.lastGood)} bad ${formatTokens(state.firstBad)}`
  );
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "-";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * Bars on stderr: one for the run (models done, elapsed, ETA from the time per finished model) and
 * one for the model under test (loads used of the allowed maximum). A finished model's bar is
 * replaced by its result line, so the screen never keeps a half-full bar for a finished model.
 * Result lines go through the bars' log when stdout is the same terminal (so they do not tear the
 * bars) and straight to stdout when it is redirected.
 */
export function barReporter(modelCount: number, stdoutIsTerminal: boolean): TestReporter {
  const startedAt = Date.now();
  let done = 0;
  let stopped = false;
  const bars = new cliProgress.MultiBar(
    {
      clearOnComplete: false,
      hideCursor: true,
      stream: process.stderr,
      // Our own formatter: no `{placeholder}` substitution, so a model key can never be templated.
      format: (options, params, payload: { label: string; detail: string }) =>
        `${cliProgress.Format.BarFormat(params.progress, options)} ${params.value}/${params.total} ${payload.label} ${payload.detail}`,
    },
    cliProgress.Presets.shades_classic,
  );
  const runDetail = () => {
    const elapsed = (Date.now() - startedAt) / 1000;
    const eta = done === 0 ? Number.NaN : (elapsed / done) * (modelCount - done);
    const state = stopped ? "stopped" : done === modelCount ? "ETA done" : `ETA ${formatDuration(eta)}`;
    return `elapsed ${formatDuration(elapsed)} · ${state}`;
  };
  const run = bars.create(modelCount, 0, { label: "models", detail: runDetail() });
  const ticker = setInterval(() => run.update({ detail: runDetail() }), 1000);
  ticker.unref();
  const show = (text: string) => {
    if (stdoutIsTerminal) bars.log(`${text}\n`);
    else printLine(text);
  };
  return {
    model(key, maxLoads) {
      const bar = bars.create(maxLoads, 0, { label: escapeControlLine(key), detail: "" });
      return {
        probe: (record, state) => bar.update(state.loads, { detail: probeDetail(record, state) }),
        finish(line) {
          if (line.status === "interrupted") stopped = true;
          else done += 1;
          run.update(done, { detail: runDetail() });
          show(resultText(line));
          // Removing redraws, which also prints the logged result line above the bars.
          bars.remove(bar);
        },
      };
    },
    note(message) {
      bars.log(message.endsWith("\n") ? message : `${message}\n`);
      bars.update();
    },
    end() {
      clearInterval(ticker);
      run.update({ detail: runDetail() });
      bars.update();
      bars.stop();
    },
  };
}
