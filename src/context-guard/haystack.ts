import type { ChatTurn } from "./host.js";

/**
 * The probe's test prompt: filler text with passkeys planted all along it, then questions for the ones
 * at fixed depths. Plain functions over plain data; token counting happens in probe.ts with the model's own
 * tokenizer. Passkeys are random per search, so an answer cannot come from an earlier run's cache.
 */

export interface Needle {
  name: string;
  value: string;
  /** Fraction of the filler (0..1) after which the needle is planted. */
  depth: number;
}

/** Small deterministic generator (mulberry32): the same seed always builds the same haystack. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAME_PARTS_A = [
  "amber",
  "cobalt",
  "silent",
  "northern",
  "velvet",
  "granite",
  "hollow",
  "crimson",
  "lunar",
  "misty",
];
const NAME_PARTS_B = [
  "falcon",
  "harbor",
  "meadow",
  "lantern",
  "orchard",
  "glacier",
  "compass",
  "willow",
  "summit",
  "canyon",
];

const SUBJECTS = [
  "The river",
  "An old map",
  "The village baker",
  "A quiet engineer",
  "The morning train",
  "Our neighbour",
  "The museum guide",
  "A travelling musician",
  "The garden wall",
  "The lighthouse keeper",
];
const VERBS = [
  "carried",
  "described",
  "painted",
  "repaired",
  "remembered",
  "followed",
  "collected",
  "measured",
  "noticed",
  "arranged",
];
const OBJECTS = [
  "bright stones",
  "the narrow bridge",
  "several wooden boxes",
  "a faded letter",
  "the winter harvest",
  "long shadows",
  "the copper kettle",
  "three green bottles",
  "a field of barley",
  "the evening clouds",
];
const PLACES = [
  "near the harbour",
  "before sunrise",
  "along the valley",
  "behind the mill",
  "during the festival",
  "under the oak trees",
  "across the square",
  "after the storm",
  "beside the canal",
  "at the edge of town",
];

export function makeNeedles(random: () => number, depths: readonly number[]): Needle[] {
  const used = new Set<string>();
  return depths.map((depth) => {
    let name: string;
    do {
      const a = NAME_PARTS_A[Math.floor(random() * NAME_PARTS_A.length)];
      const b = NAME_PARTS_B[Math.floor(random() * NAME_PARTS_B.length)];
      name = `${a}-${b}-${Math.floor(random() * 90 + 10)}`;
    } while (used.has(name));
    used.add(name);
    // Seven digits, no leading zero: an exact-match check cannot pass by accident.
    const value = String(1_000_000 + Math.floor(random() * 9_000_000));
    return { name, value, depth };
  });
}

/** Filler sentences that never mention passkeys, so they cannot be confused with a needle. */
export function fillerSentences(random: () => number, count: number): string[] {
  const pick = (list: readonly string[]) => list[Math.floor(random() * list.length)];
  return Array.from(
    { length: count },
    () => `${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)} ${pick(PLACES)}.`,
  );
}

const SYSTEM_PROMPT =
  "You are a careful assistant. Read the document, then answer every question at the end exactly, " +
  "one answer per line, repeating the document's sentence for each.";

export interface RecallCheck {
  correct: number;
  total: number;
  wrong: Array<{ name: string; expected: string; got?: string }>;
}

/** Exact recall: each needle's value must appear as the answer for its name; nothing else counts. */
export function checkRecall(answer: string, needles: readonly Needle[]): RecallCheck {
  // Reasoning models may think first; only the final answer counts.
  const final = answer.replace(/<think>[\s\S]*?<\/think>/g, "");
  const wrong: RecallCheck["wrong"] = [];
  for (const needle of needles) {
    const pattern = new RegExp(`passkey for ${escapeRegExp(needle.name)}\\W+(?:is\\W+)?(\\d+)`, "i");
    const got = pattern.exec(final)?.[1];
    if (got !== needle.value)
      wrong.push({ name: needle.name, expected: needle.value, ...(got ? { got } : {}) });
  }
  return { correct: needles.length - wrong.length, total: needles.length, wrong };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Sentences between planted passkeys in a growing haystack (~10 tokens each, so a key every ~200 tokens). */
const PASSKEY_SPACING = 20;

/**
 * One document for every probe of a search: the same sentences in the same order, with a passkey
 * planted every PASSKEY_SPACING sentences all along it. A probe at any size uses a prefix of it, so a
 * probe on an instance that already ran a longer (or shorter) one shares the longest possible prefix
 * with it, and the server (LM Studio, like llama.cpp, reuses a slot's cached prefix) only processes
 * the new tail. Values are random per search, so no answer can come from an earlier search.
 */
export class GrowingHaystack {
  private readonly items: string[] = [];
  private readonly planted: Array<{ index: number; needle: Needle }> = [];

  constructor(private readonly random: () => number) {}

  private grow(count: number): void {
    while (this.items.length < count) {
      const index = this.items.length;
      if (index % PASSKEY_SPACING === 2) {
        const [drawn] = makeNeedles(this.random, [0]);
        // The planted count makes every name unique, however long the document grows.
        const needle = { ...drawn!, name: `${drawn!.name}-${this.planted.length + 1}` };
        this.planted.push({ index, needle });
        this.items.push(`The passkey for ${needle.name} is ${needle.value}.`);
      } else {
        this.items.push(fillerSentences(this.random, 1)[0]!);
      }
    }
  }

  /**
   * The chat turns for the first `count` sentences, asking for the passkeys nearest to `depths` of
   * that length (distinct ones; fewer when the prefix holds fewer).
   */
  prefix(count: number, depths: readonly number[]): { turns: ChatTurn[]; asked: Needle[] } {
    this.grow(count);
    const body = this.items.slice(0, count);
    const inside = this.planted.filter((p) => p.index < count);
    const asked: Needle[] = [];
    for (const depth of depths) {
      const nearest = inside
        .filter((p) => !asked.some((a) => a.name === p.needle.name))
        .sort((a, b) => Math.abs(a.index - depth * count) - Math.abs(b.index - depth * count))[0];
      if (nearest) asked.push({ ...nearest.needle, depth: nearest.index / Math.max(1, count) });
    }
    return { turns: documentTurns(body, asked), asked };
  }
}

function documentTurns(body: readonly string[], asked: readonly Needle[]): ChatTurn[] {
  const questions = asked.map((n) => `What is the passkey for ${n.name}?`).join("\n");
  return [
    { role: "system", content: SYSTEM_PROMPT },
    { role: "user", content: `<document>\n${body.join(" ")}\n</document>\n\n${questions}` },
  ];
}
