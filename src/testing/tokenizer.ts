import { fnv1a } from "./hash.js";

// ~1 token per 4 letters, one per punctuation mark; leading whitespace sticks to the next piece.
const TOKEN_PATTERN = /\s*[A-Za-z0-9]{1,4}|\s*[^\sA-Za-z0-9]|\s+$/g;

/** The simulator's tokenizer, as text pieces (concatenated, they give back the input). */
export function simulatorTokenPieces(text: string): string[] {
  return text.match(TOKEN_PATTERN) ?? [];
}

/** Stable token id of one piece (real vocabularies are ~150k entries). */
export function tokenId(piece: string): number {
  return fnv1a(piece) % 151_643;
}

export function simulatorTokenize(text: string): number[] {
  return simulatorTokenPieces(text).map(tokenId);
}

export function countSimulatorTokens(text: string): number {
  return simulatorTokenPieces(text).length;
}

/** The first `maxTokens` tokens of `text`, and whether it was cut. */
export function truncateToTokens(text: string, maxTokens: number): { text: string; truncated: boolean } {
  const pieces = simulatorTokenPieces(text);
  if (pieces.length <= maxTokens) return { text, truncated: false };
  return { text: pieces.slice(0, Math.max(0, maxTokens)).join(""), truncated: true };
}
