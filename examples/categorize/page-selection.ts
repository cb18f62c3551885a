import type { DocumentPage } from "./documents.js";

/**
 * Head + tail: the first pages carry the caption, letterhead or title and the last ones the
 * signature block, totals or certificate of service, so together they show a document's type
 * at a fraction of its length. Pages are taken alternately from both ends until the budget is
 * spent; the page that does not fit whole is cut (its start if it is a head page, its end if
 * a tail page) rather than dropped.
 */

export interface SelectedPage extends DocumentPage {
  /** The text was cut to fit. */
  truncated: boolean;
}

export interface PageCosts {
  /** Tokens one page image costs the model. */
  imageTokens: number;
  /** Tokens of the marker line around each page. */
  markerTokens: number;
}

/** A cut page shorter than this says too little to be worth its marker. */
const MIN_USEFUL_TOKENS = 120;

/**
 * A deliberately high estimate (three characters a token; real tokenizers average about four on
 * English) so a page that fits here fits the model; a server overflow still gets one smaller retry.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 3);
}

function charactersFor(tokens: number): number {
  return tokens * 3;
}

function pageCost(page: DocumentPage, costs: PageCosts): number {
  return costs.markerTokens + (page.needsVision ? costs.imageTokens : estimateTokens(page.text));
}

/** 1, n, 2, n-1, 3, …: the order in which head and tail pages are considered. */
export function headTailOrder(pageCount: number): number[] {
  const order: number[] = [];
  for (let head = 1, tail = pageCount; head <= tail; head++, tail--) {
    order.push(head);
    if (tail !== head) order.push(tail);
  }
  return order;
}

/** The cut-down page, or undefined when too little room is left for it to be useful. */
export function cutToFit(
  page: DocumentPage,
  tokens: number,
  keep: "start" | "end",
  costs: PageCosts,
): SelectedPage | undefined {
  const room = tokens - costs.markerTokens;
  if (page.needsVision || room < MIN_USEFUL_TOKENS) return undefined;
  const characters = charactersFor(room);
  const text = keep === "start" ? page.text.slice(0, characters) : page.text.slice(-characters);
  return { ...page, text, truncated: true };
}

export function selectHeadAndTail(
  pages: readonly DocumentPage[],
  budgetTokens: number,
  costs: PageCosts,
): SelectedPage[] {
  const selected: SelectedPage[] = [];
  let remaining = budgetTokens;
  for (const number of headTailOrder(pages.length)) {
    const page = pages[number - 1]!;
    const cost = pageCost(page, costs);
    if (cost <= remaining) {
      selected.push({ ...page, truncated: false });
      remaining -= cost;
      continue;
    }
    const isTailPage = number > pages.length / 2 + 0.5;
    const cut = cutToFit(page, remaining, isTailPage ? "end" : "start", costs);
    if (cut) selected.push(cut);
    break;
  }
  return selected.sort((a, b) => a.page - b.page);
}

/** "1-2, 13-14" (pages in order, consecutive runs joined). */
export function formatPageRanges(pages: readonly number[]): string {
  const sorted = [...new Set(pages)].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const start = sorted[i]!;
    while (i + 1 < sorted.length && sorted[i + 1] === sorted[i]! + 1) i++;
    const end = sorted[i]!;
    runs.push(start === end ? `${start}` : `${start}-${end}`);
  }
  return runs.join(", ");
}
