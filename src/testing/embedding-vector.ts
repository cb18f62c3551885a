import { fnv1a, seededRandom } from "./hash.js";

/**
 * A deterministic unit vector for `text`: the normalised sum of one pseudo-random vector per
 * lowercase word (feature hashing), so identical texts get identical vectors and texts sharing
 * words are closer than unrelated ones — enough for similarity search in tests.
 */
export function embedText(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const features = words.length > 0 ? words : [text];
  for (const word of features) {
    const random = seededRandom(fnv1a(word));
    for (let i = 0; i < dimensions; i++) vector[i]! += random() * 2 - 1;
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((v) => v / norm);
}
