/**
 * Cutting text to a token budget using only a token counter (the SDK has no detokenize): binary
 * search over cut positions, preferring word boundaries and never splitting a surrogate pair.
 * Assumes a prefix never has more tokens than a longer prefix, which holds for real tokenizers closely
 * enough that we only ever accept a cut whose own count was measured to fit.
 */

export type CountTokens = (texts: string[]) => Promise<number[]>;

export interface FittedText {
  text: string;
  tokens: number;
}

/** Positions just after each whitespace run, then the end: cuts that do not break a word. */
function wordCuts(text: string): number[] {
  const cuts: number[] = [];
  const pattern = /\s+/g;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const cut = match.index + match[0].length;
    if (cut > 0 && cut < text.length) cuts.push(cut);
  }
  cuts.push(text.length);
  return cuts;
}

/** Every position between code points up to `end` (a lone surrogate half would corrupt the text). */
function codePointCuts(text: string, end: number): number[] {
  const cuts: number[] = [];
  let position = 0;
  for (const character of text.slice(0, end)) {
    position += character.length;
    cuts.push(position);
  }
  return cuts;
}

/** The largest cut whose prefix fits, or undefined when even the smallest does not. */
async function largestFittingCut(
  text: string,
  cuts: number[],
  budget: number,
  count: CountTokens,
): Promise<FittedText | undefined> {
  let low = 0;
  let high = cuts.length - 1;
  let best: FittedText | undefined;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const prefix = text.slice(0, cuts[middle]);
    const [tokens = Number.POSITIVE_INFINITY] = await count([prefix]);
    if (tokens <= budget) {
      best = { text: prefix, tokens };
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return best;
}

/** The longest prefix of `text` (at a word boundary when one fits) with at most `budget` tokens. */
export async function longestFittingPrefix(
  text: string,
  budget: number,
  count: CountTokens,
): Promise<FittedText> {
  const cuts = wordCuts(text);
  const byWords = await largestFittingCut(text, cuts, budget, count);
  if (byWords) return byWords;
  // The first word alone is over budget (e.g. a long run without spaces): cut inside it.
  const byCodePoints = await largestFittingCut(
    text,
    codePointCuts(text, cuts[0] ?? text.length),
    budget,
    count,
  );
  if (byCodePoints) return byCodePoints;
  throw new RangeError(`Not even one character fits in a budget of ${budget} tokens`);
}

/** Consecutive pieces of `text`, each within `budget` tokens, that together are the whole text. */
export async function splitToFit(text: string, budget: number, count: CountTokens): Promise<FittedText[]> {
  const pieces: FittedText[] = [];
  let rest = text;
  while (rest.length > 0) {
    const [tokens = Number.POSITIVE_INFINITY] = await count([rest]);
    if (tokens <= budget) {
      pieces.push({ text: rest, tokens });
      break;
    }
    const piece = await longestFittingPrefix(rest, budget, count);
    pieces.push(piece);
    rest = rest.slice(piece.text.length);
  }
  return pieces;
}
