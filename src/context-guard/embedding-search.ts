import { randomInt } from "node:crypto";
import { fillerSentences, seededRandom } from "./haystack.js";
import { type InstanceRef, type ModelHost, ModelHostError } from "./host.js";
import { noJournal, type SearchJournal, type SearchProgress } from "./journal.js";
import type { FailureKind, LevelRecord, ProbeRecord } from "./registry-schema.js";
import type { SearchResult, SearchState } from "./search.js";

/**
 * The usable input of an embedding model. LM Studio silently truncates an embedding input longer than
 * what the model really processes, so a load and a successful embed prove nothing; a probe at N:
 * - L0: a load at N succeeds and reads back N;
 * - L1: a text of about N tokens (counted with the model's own tokenizer) embeds without error;
 * - L2: changing only the text's last sentence changes the vector. If the end was cut off, the two
 *   vectors are identical: silent truncation, caught.
 * Search: the declared maximum first (most embedding models pass it), then bisection below it.
 */

export interface EmbeddingSearchOptions {
  /** Loads allowed (default 6). */
  maxLoads?: number;
  /** Stop when passing and failing sizes are within this fraction (default 0.05). */
  resolution?: number;
  /** Sizes are multiples of this (default 64). */
  granularity?: number;
  seed?: number;
  journal?: SearchJournal;
  signal?: AbortSignal;
  onProbe?: (record: ProbeRecord, state: SearchState) => void;
  identifierPrefix?: string;
  ttlSeconds?: number;
}

/** Tokens kept free for the special tokens an embedding model adds (CLS/SEP, BOS/EOS). */
const SPECIAL_TOKENS = 8;

async function buildText(
  host: ModelHost,
  ref: InstanceRef,
  target: number,
  random: () => number,
): Promise<{ sentences: string[]; tokens: number }> {
  const sentences: string[] = [];
  const count = () => host.countTokens(ref, sentences.join(" "));
  // Estimate from a sample, then add or drop sentences against exact counts.
  sentences.push(...fillerSentences(random, 32));
  const perSentence = Math.max(1, (await count()) / sentences.length);
  const wanted = Math.max(2, Math.floor(target / perSentence));
  if (wanted > sentences.length) sentences.push(...fillerSentences(random, wanted - sentences.length));
  else sentences.length = wanted;
  let tokens = await count();
  for (let attempt = 0; attempt < 8 && tokens > target && sentences.length > 2; attempt++) {
    sentences.length = Math.max(2, sentences.length - Math.ceil((tokens - target) / perSentence));
    tokens = await count();
  }
  while (tokens < target - 2 * perSentence) {
    sentences.push(...fillerSentences(random, 1));
    const next = await count();
    if (next > target) {
      sentences.pop();
      break;
    }
    tokens = next;
  }
  return { sentences, tokens };
}

function sameVector(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((value, i) => Math.abs(value - (b[i] ?? Number.NaN)) < 1e-9);
}

const level = (passed: boolean, detail?: string): LevelRecord => ({ passed, ...(detail ? { detail } : {}) });
const SKIPPED: LevelRecord = { passed: false, skipped: true };

export async function searchEmbeddingInput(
  host: ModelHost,
  model: { key: string; declaredMax: number; sizeBytes?: number },
  options: EmbeddingSearchOptions = {},
): Promise<SearchResult> {
  if (host.embed === undefined)
    throw new Error("this model host cannot embed, so it cannot test embedding models");
  const embed = host.embed.bind(host);
  const granularity = options.granularity ?? 64;
  const maxLoads = options.maxLoads ?? 6;
  const resolution = options.resolution ?? 0.05;
  const journal = options.journal ?? noJournal;
  const random = seededRandom(options.seed ?? randomInt(2 ** 31));
  const prefix = options.identifierPrefix ?? `guard-embed-probe-${process.pid}`;
  await journal.begin({
    declaredMax: model.declaredMax,
    ...(model.sizeBytes !== undefined ? { sizeBytes: model.sizeBytes } : {}),
    fresh: true,
  });
  const probes: ProbeRecord[] = [];
  const progress: SearchProgress = { loads: 0 };
  let usable: number | undefined;

  const probeAt = async (size: number): Promise<boolean> => {
    options.signal?.throwIfAborted();
    const started = Date.now();
    const at = new Date().toISOString();
    const identifier = `${prefix}-${size}`;
    const ref: InstanceRef = { identifier, type: "embedding" };
    await journal.markProbing(size);
    progress.loads += 1;
    let record: ProbeRecord;
    let failureKind: FailureKind | undefined;
    let loadedContext: number | undefined;
    try {
      const load = await host.load(model.key, {
        identifier,
        contextLength: size,
        type: "embedding",
        ...(options.ttlSeconds !== undefined ? { ttlSeconds: options.ttlSeconds } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      loadedContext = load.actual;
      if (load.actual < size) {
        failureKind = "not-honoured";
        record = {
          contextLength: size,
          loadedContext,
          loaded: true,
          passed: false,
          failureKind,
          levels: {
            L0: level(false, `asked for ${size}, LM Studio loaded ${load.actual}`),
            L1: SKIPPED,
            L2: SKIPPED,
          },
          at,
        };
      } else {
        const text = await buildText(host, ref, size - SPECIAL_TOKENS, random);
        const original = await embed(ref, text.sentences.join(" "));
        const changed = [...text.sentences];
        // A different last sentence: the vector must move if the model really read that far.
        changed[changed.length - 1] = `Zebra quartz ${randomInt(1_000_000)} violet marmalade.`;
        const altered = await embed(ref, changed.join(" "));
        const truncated = sameVector(original, altered);
        if (truncated) failureKind = "truncated";
        record = {
          contextLength: size,
          loadedContext,
          loaded: true,
          passed: !truncated,
          ...(failureKind ? { failureKind } : {}),
          levels: {
            L0: level(true),
            L1: level(true, `${text.tokens} tokens embedded`),
            L2: truncated
              ? level(false, "changing the last sentence did not change the vector: the input was cut short")
              : level(true, "the last sentence changes the vector"),
          },
          expectedPromptTokens: text.tokens,
          promptTokens: text.tokens,
          at,
        };
        if (!truncated) usable = Math.max(usable ?? 0, text.tokens);
      }
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const detail = error instanceof ModelHostError ? error.detail : String(error);
      failureKind =
        error instanceof ModelHostError && error.kind === "guardrail" ? "guardrail" : "load-error";
      record = {
        contextLength: size,
        ...(loadedContext !== undefined ? { loadedContext } : {}),
        loaded: loadedContext !== undefined,
        passed: false,
        failureKind,
        levels: {
          L0: level(loadedContext !== undefined, loadedContext === undefined ? detail : undefined),
          L1: loadedContext === undefined ? SKIPPED : level(false, detail),
          L2: SKIPPED,
        },
        at,
      };
    } finally {
      await host.unload(ref).catch(() => undefined);
    }
    record.durationMs = Date.now() - started;
    if (record.passed) progress.lastGood = Math.max(progress.lastGood ?? 0, size);
    else {
      progress.firstBad = Math.min(progress.firstBad ?? Number.POSITIVE_INFINITY, size);
      if (failureKind) progress.failureKind = failureKind;
    }
    probes.push(record);
    await journal.recordProbe(record, progress);
    options.onProbe?.(record, {
      modelKey: model.key,
      declaredMax: model.declaredMax,
      loads: progress.loads,
      maxLoads,
      ...(progress.lastGood !== undefined ? { lastGood: progress.lastGood } : {}),
      ...(progress.firstBad !== undefined ? { firstBad: progress.firstBad } : {}),
    });
    return record.passed;
  };

  const round = (n: number) => Math.max(granularity, Math.floor(n / granularity) * granularity);
  if (!(await probeAt(model.declaredMax))) {
    let low = 0;
    let high = model.declaredMax;
    while (progress.loads < maxLoads) {
      const size = round(low === 0 ? high / 2 : (low + high) / 2);
      if (size <= low || size >= high || (low > 0 && high - low <= Math.max(granularity, high * resolution)))
        break;
      if (await probeAt(size)) low = size;
      else high = size;
    }
  }
  const testedMax = progress.lastGood;
  const outcome = {
    ...progress,
    status: testedMax !== undefined ? ("tested" as const) : ("failed" as const),
    ...(testedMax !== undefined ? { testedMax } : {}),
    ...(usable !== undefined ? { usablePromptTokens: usable } : {}),
  };
  await journal.finish(outcome);
  return { ...outcome, modelKey: model.key, declaredMax: model.declaredMax, probes };
}
