import type { ChatTurn } from "./host.js";

/**
 * The probe's test prompt: filler text with passkeys planted at fixed depths, then questions for all
 * of them. Plain functions over plain data; token counting happens in probe.ts with the model's own
 * tokenizer. Passkeys are random per probe, so an answer cannot come from an earlier run's cache.
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

/** The chat turns for a haystack of `sentences` with the needles planted at their depths. */
export function haystackTurns(sentences: readonly string[], needles: readonly Needle[]): ChatTurn[] {
  const body = [...sentences];
  // Plant from the deepest needle down so earlier insertions do not shift later positions.
  const planted = [...needles].sort((a, b) => b.depth - a.depth);
  for (const needle of planted) {
    const at = Math.min(body.length, Math.round(body.length * needle.depth));
    body.splice(at, 0, `The passkey for ${needle.name} is ${needle.value}.`);
  }
  const questions = needles.map((n) => `What is the passkey for ${n.name}?`).join("\n");
  return [
    { role: "system", content: SYSTEM_PROMPT },
    { role: "user", content: `<document>\n${body.join(" ")}\n</document>\n\n${questions}` },
  ];
}

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
