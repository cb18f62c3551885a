import { checkRecall, GrowingHaystack, type Needle } from "./haystack.js";
import {
  type ChatTurn,
  type HostFailureKind,
  type InstanceRef,
  type LoadResult,
  type LoadSettings,
  type ModelHost,
  ModelHostError,
} from "./host.js";
import type { FailureKind, LevelRecord } from "./registry-schema.js";

/**
 * The probe at one context size N, in levels:
 * - L0: a load at N succeeds and reads back N (done by `loadLevel`; skipped when a larger, already
 *   verified instance is reused);
 * - L1: a chat-templated prompt filling N minus the answer reserve, sized with the model's own
 *   tokenizer, processes without error and the server's prompt token count matches ours (no silent
 *   truncation);
 * - L2: passkeys planted at depths 10/50/90 % all come back exactly, greedy decoding.
 *
 * The fill is N minus a small fixed answer reserve rather than a fixed 90 % of N: the clamp lets a
 * caller use every verified prompt token, so the probe must verify (almost) all of them; with a 256-token
 * reserve the fill is ≥ 90 % of N for every N ≥ 2560.
 */

export interface ProbeSettings {
  /** Tokens kept free for the answer (also its max_tokens). */
  answerReserve: number;
  needleDepths: readonly number[];
  loadTimeoutMs: number;
  respondTimeoutMs: number;
  /** Idle TTL given to probe instances, so LM Studio unloads them even if we die. */
  ttlSeconds: number;
  loadSettings?: LoadSettings;
  random: () => number;
}

export const DEFAULT_PROBE_SETTINGS: Omit<ProbeSettings, "random"> = {
  answerReserve: 256,
  needleDepths: [0.1, 0.5, 0.9],
  loadTimeoutMs: 10 * 60_000,
  respondTimeoutMs: 20 * 60_000,
  ttlSeconds: 15 * 60,
};

export class ProbeAbortedError extends Error {
  override readonly name = "ProbeAbortedError";
}

function withTimeout(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

function throwIfUserAbort(error: unknown, signal?: AbortSignal): void {
  if (signal?.aborted || (error instanceof ModelHostError && error.kind === "aborted")) {
    throw new ProbeAbortedError("probe aborted", { cause: error });
  }
}

const LOAD_FAILURES: Partial<Record<HostFailureKind, FailureKind>> = {
  guardrail: "guardrail",
  crash: "crash",
  disconnect: "disconnect",
  timeout: "timeout",
};

const FILL_FAILURES: Partial<Record<HostFailureKind, FailureKind>> = {
  crash: "fill-oom",
  "out-of-memory": "fill-oom",
  overflow: "truncated",
  disconnect: "disconnect",
  timeout: "timeout",
  "not-found": "crash",
};

export interface LoadLevelResult {
  L0: LevelRecord;
  load?: LoadResult;
  failureKind?: FailureKind;
}

/** L0: load a new instance at N and read its context back. */
export async function loadLevel(
  host: ModelHost,
  modelKey: string,
  contextLength: number,
  identifier: string,
  settings: ProbeSettings,
  signal?: AbortSignal,
): Promise<LoadLevelResult> {
  try {
    const load = await host.load(modelKey, {
      identifier,
      contextLength,
      ttlSeconds: settings.ttlSeconds,
      settings: settings.loadSettings,
      signal: withTimeout(signal, settings.loadTimeoutMs),
    });
    if (load.actual < contextLength) {
      return {
        L0: {
          passed: false,
          detail: `asked for ${contextLength}, LM Studio loaded ${load.actual} (auto-fit?)`,
        },
        load,
        failureKind: "not-honoured",
      };
    }
    const detail = load.honoured ? undefined : `asked for ${contextLength}, LM Studio loaded ${load.actual}`;
    return { L0: { passed: true, ...(detail ? { detail } : {}) }, load };
  } catch (error) {
    throwIfUserAbort(error, signal);
    const failure = error instanceof ModelHostError ? error : new ModelHostError("other", String(error));
    return {
      L0: { passed: false, detail: failure.detail },
      failureKind: LOAD_FAILURES[failure.kind] ?? "load-error",
    };
  }
}

export interface FillLevelResult {
  L1: LevelRecord;
  L2: LevelRecord;
  passed: boolean;
  failureKind?: FailureKind;
  promptTokens?: number;
  expectedPromptTokens?: number;
  timeToFirstTokenSec?: number;
  tokensPerSecond?: number;
  /** The instance may be gone (crash, disconnect): do not reuse it. */
  instanceSuspect: boolean;
}

interface BuiltPrompt {
  turns: ChatTurn[];
  tokens: number;
  /** The passkeys the prompt asks for. */
  asked: Needle[];
}

/**
 * One growing haystack per search (its settings carry one random stream): every probe's document is a
 * prefix of the same text, so the server re-processes only what a probe adds (see GrowingHaystack).
 */
const haystacks = new WeakMap<() => number, GrowingHaystack>();

function haystackFor(settings: ProbeSettings): GrowingHaystack {
  let haystack = haystacks.get(settings.random);
  if (haystack === undefined) {
    haystack = new GrowingHaystack(settings.random);
    haystacks.set(settings.random, haystack);
  }
  return haystack;
}

/**
 * Sizes the haystack prefix to `target` templated tokens with the model's tokenizer: estimate tokens
 * per sentence once, then correct a few times against exact counts. Ends at or just below the target.
 */
async function buildPrompt(
  host: ModelHost,
  ref: InstanceRef,
  target: number,
  settings: ProbeSettings,
): Promise<BuiltPrompt> {
  const count = async (turns: ChatTurn[]) =>
    host.countTokens(ref, await host.applyPromptTemplate(ref, turns));
  const haystack = haystackFor(settings);
  const build = (n: number) => haystack.prefix(n, settings.needleDepths);
  const empty = build(0);
  const overhead = await count(empty.turns);
  if (overhead >= target)
    throw new Error(`context ${target} is too small for the probe prompt (${overhead} tokens)`);
  const sample = 64;
  const perSentence = Math.max(1, ((await count(build(sample).turns)) - overhead) / sample);
  // Within one sentence of the target: a shorter fill would prove less than the size it is reported for.
  const slack = Math.ceil(perSentence);
  let n = Math.max(0, Math.floor((target - overhead) / perSentence));
  let best: BuiltPrompt | undefined;
  for (let attempt = 0; attempt < 8; attempt += 1) {
    const { turns, asked } = build(n);
    const tokens = await count(turns);
    if (tokens <= target && (best === undefined || tokens > best.tokens)) best = { turns, tokens, asked };
    if (tokens <= target && target - tokens <= slack) break;
    const step = Math.max(1, Math.floor(Math.abs(target - tokens) / perSentence));
    n = tokens > target ? Math.max(0, n - step - 1) : n + step;
  }
  return best ?? { ...empty, tokens: overhead };
}

function recordOf(passed: boolean, detail?: string): LevelRecord {
  return { passed, ...(detail ? { detail } : {}) };
}

const SKIPPED: LevelRecord = { passed: false, skipped: true };

/** L1 + L2 in one prediction on an instance whose context is at least N. */
export async function fillLevels(
  host: ModelHost,
  ref: InstanceRef,
  contextLength: number,
  settings: ProbeSettings,
  signal?: AbortSignal,
): Promise<FillLevelResult> {
  const target = contextLength - settings.answerReserve;
  let prompt: BuiltPrompt;
  try {
    prompt = await buildPrompt(host, ref, target, settings);
  } catch (error) {
    throwIfUserAbort(error, signal);
    const kind = error instanceof ModelHostError ? (FILL_FAILURES[error.kind] ?? "crash") : "crash";
    const detail = `could not build the prompt: ${error instanceof Error ? error.message : String(error)}`;
    return {
      L1: recordOf(false, detail),
      L2: SKIPPED,
      passed: false,
      failureKind: kind,
      instanceSuspect: true,
    };
  }
  const expected = prompt.tokens;
  let result: Awaited<ReturnType<ModelHost["respond"]>>;
  try {
    result = await host.respond(ref, prompt.turns, {
      maxTokens: settings.answerReserve,
      signal: withTimeout(signal, settings.respondTimeoutMs),
    });
  } catch (error) {
    throwIfUserAbort(error, signal);
    const failure = error instanceof ModelHostError ? error : new ModelHostError("other", String(error));
    return {
      L1: recordOf(false, failure.detail),
      L2: SKIPPED,
      passed: false,
      failureKind: FILL_FAILURES[failure.kind] ?? "crash",
      expectedPromptTokens: expected,
      instanceSuspect: failure.kind !== "overflow",
    };
  }
  const timing = {
    ...(result.timeToFirstTokenSec !== undefined ? { timeToFirstTokenSec: result.timeToFirstTokenSec } : {}),
    ...(result.tokensPerSecond !== undefined ? { tokensPerSecond: result.tokensPerSecond } : {}),
  };
  const reported = result.promptTokens;
  // A server that drops tokens (sliding window, truncate-middle) reports fewer than we sent.
  const tolerance = Math.max(8, Math.ceil(expected * 0.005));
  const truncated =
    result.stopReason === "contextLengthReached" ||
    (reported !== undefined && Math.abs(reported - expected) > tolerance);
  const base = {
    expectedPromptTokens: expected,
    ...(reported !== undefined ? { promptTokens: reported } : {}),
    ...timing,
  };
  if (truncated) {
    return {
      L1: recordOf(
        false,
        `server processed ${reported ?? "?"} prompt tokens, expected ${expected} (stop: ${result.stopReason})`,
      ),
      L2: SKIPPED,
      passed: false,
      failureKind: "truncated",
      instanceSuspect: false,
      ...base,
    };
  }
  const L1 = recordOf(
    true,
    reported === undefined ? "server did not report a prompt token count" : undefined,
  );
  const recall = checkRecall(result.content, prompt.asked);
  if (recall.wrong.length > 0) {
    const detail = `${recall.correct}/${recall.total} passkeys right; ${recall.wrong
      .map((w) => `${w.name}: expected ${w.expected}, got ${w.got ?? "nothing"}`)
      .join("; ")}`;
    return {
      L1,
      L2: recordOf(false, detail),
      passed: false,
      failureKind: "wrong-answers",
      instanceSuspect: false,
      ...base,
    };
  }
  return {
    L1,
    L2: recordOf(true, `${recall.total}/${recall.total} passkeys exact`),
    passed: true,
    instanceSuspect: false,
    ...base,
  };
}
