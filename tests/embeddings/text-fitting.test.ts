import { describe, expect, it } from "vitest";
import { longestFittingPrefix, splitToFit } from "../../src/embeddings/text-fitting.js";

const countWords = async (texts: string[]) => texts.map((text) => text.split(/\s+/).filter(Boolean).length);
/** One token per UTF-16 code unit, to exercise cuts inside a word. */
const countUnits = async (texts: string[]) => texts.map((text) => text.length);

describe("longestFittingPrefix", () => {
  it("keeps as many whole words as fit", async () => {
    const fitted = await longestFittingPrefix("one two three four five", 3, countWords);
    expect(fitted).toEqual({ text: "one two three ", tokens: 3 });
  });

  it("cuts inside a word when the first word alone is over budget, never between surrogate halves", async () => {
    const text = `ab😀cdef rest`;
    const fitted = await longestFittingPrefix(text, 3, countUnits);
    // "ab😀" would be 4 units: the cut stops before the emoji instead of splitting it.
    expect(fitted).toEqual({ text: "ab", tokens: 2 });
  });

  it("refuses a budget that not even one character fits", async () => {
    await expect(longestFittingPrefix("abc", 0, countUnits)).rejects.toBeInstanceOf(RangeError);
  });
});

describe("splitToFit", () => {
  it("returns consecutive pieces within budget that rebuild the text", async () => {
    const text = Array.from({ length: 23 }, (_, i) => `w${i}`).join(" ");
    const pieces = await splitToFit(text, 5, countWords);
    expect(pieces.map((piece) => piece.text).join("")).toBe(text);
    expect(pieces.map((piece) => piece.tokens)).toEqual([5, 5, 5, 5, 3]);
    for (const piece of pieces) expect((await countWords([piece.text]))[0]).toBe(piece.tokens);
  });

  it("returns the text whole when it already fits", async () => {
    expect(await splitToFit("a b c", 5, countWords)).toEqual([{ text: "a b c", tokens: 3 }]);
  });
});
