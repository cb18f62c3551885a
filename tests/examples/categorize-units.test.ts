import { describe, expect, it } from "vitest";
import { toCsv } from "../../examples/categorize/csv.js";
import { splitTextIntoPages } from "../../examples/categorize/documents.js";
import { findEvidence } from "../../examples/categorize/evidence.js";
import {
  estimateTokens,
  formatPageRanges,
  headTailOrder,
  selectHeadAndTail,
} from "../../examples/categorize/page-selection.js";
import { tallyVotes } from "../../examples/categorize/vote.js";

const costs = { imageTokens: 256, markerTokens: 10 };
const page = (number: number, text: string, needsVision = false) => ({ page: number, text, needsVision });
const vote = (category: string, confidence: number, page?: number) => ({
  page,
  classification: { category, confidence, reason: `r${page}`, evidence: { quote: "q", page: page ?? 1 } },
});

describe("page selection", () => {
  it("alternates head and tail", () => {
    expect(headTailOrder(5)).toEqual([1, 5, 2, 4, 3]);
    expect(headTailOrder(1)).toEqual([1]);
  });

  it("takes whole pages from both ends until the budget is spent, cutting the last one", () => {
    const pages = Array.from({ length: 10 }, (_, i) => page(i + 1, "x".repeat(600))); // 200 tokens each
    const selected = selectHeadAndTail(pages, 4 * 210 + 150, costs);
    expect(selected.map(({ page }) => page)).toEqual([1, 2, 3, 9, 10]);
    expect(selected.filter(({ truncated }) => truncated).map(({ page }) => page)).toEqual([3]);
    expect(estimateTokens(selected.find(({ page }) => page === 3)!.text)).toBeLessThanOrEqual(140);
  });

  it("keeps the end of a cut tail page (signature blocks, totals)", () => {
    const pages = [page(1, "a".repeat(300)), page(2, `${"b".repeat(3000)}SIGNED`)];
    const [, tail] = selectHeadAndTail(pages, 110 + 400, costs);
    expect(tail?.truncated).toBe(true);
    expect(tail?.text.endsWith("SIGNED")).toBe(true);
  });

  it("counts a page without text at the image price and never cuts it", () => {
    const pages = [page(1, "", true), page(2, "", true)];
    expect(selectHeadAndTail(pages, 300, costs).map(({ page }) => page)).toEqual([1]);
    expect(selectHeadAndTail(pages, 200, costs)).toEqual([]);
  });

  it("formats page ranges", () => {
    expect(formatPageRanges([16, 1, 2, 3, 15, 9])).toBe("1-3, 9, 15-16");
  });
});

describe("page vote", () => {
  it("weights votes by confidence and reports the winner's share", () => {
    const outcome = tallyVotes([vote("Bill", 0.4), vote("Pleading", 0.9, 1), vote("Bill", 0.3, 2)]);
    expect(outcome.category).toBe("Pleading");
    expect(outcome.confidence).toBeCloseTo(0.9 / 1.6);
    expect(outcome.strongest.page).toBe(1);
  });

  it("breaks ties in favour of the first vote", () => {
    expect(tallyVotes([vote("Bill", 0.5), vote("Other", 0.5, 1)]).category).toBe("Bill");
  });
});

describe("CSV", () => {
  it("quotes commas, quotes, line breaks and edge spaces, and nothing else", () => {
    expect(
      toCsv(
        ["a", "b"],
        [
          ["plain", 'say "hi", then\nleave'],
          [" x", null],
          [true, 0.5],
        ],
      ),
    ).toBe('a,b\r\nplain,"say ""hi"", then\nleave"\r\n" x",\r\ntrue,0.5\r\n');
  });
});

describe("text pages and evidence", () => {
  it("splits plain text at form feeds and packs long text into pages", () => {
    expect(splitTextIntoPages("one\fTwo")).toEqual(["one", "Two"]);
    const long = Array.from({ length: 10 }, () => "p".repeat(1000)).join("\n\n");
    const pages = splitTextIntoPages(long);
    expect(pages.length).toBeGreaterThan(3);
    expect(pages.every((text) => text.length <= 3000)).toBe(true);
  });

  it("verifies a quote against the text layer and corrects a wrong page number", () => {
    const pages = [page(1, "Caption and parties"), page(2, "Amount   due:\n550.00")];
    expect(findEvidence(pages, "amount due: 550.00", 1)).toEqual({ page: 2, verified: true });
    expect(findEvidence(pages, "not in the document", 2)).toEqual({ page: 2, verified: false });
  });
});
