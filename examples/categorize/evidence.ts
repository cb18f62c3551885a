import type { DocumentPage } from "./documents.js";

/**
 * Models misquote and misnumber pages, so the quote is looked up in the text layer rather than
 * trusted: on the page the model named first, then anywhere. An unfound quote is reported as
 * unverified instead of being dropped, so a reviewer sees what the model claimed.
 */

function normalized(text: string): string {
  return text.replace(/\s+/g, " ").trim().toLowerCase();
}

export function findEvidence(
  pages: readonly DocumentPage[],
  quote: string,
  claimedPage: number,
): { page: number; verified: boolean } {
  const needle = normalized(quote);
  if (!needle) return { page: claimedPage, verified: false };
  const claimed = pages[claimedPage - 1];
  if (claimed && normalized(claimed.text).includes(needle)) return { page: claimedPage, verified: true };
  const found = pages.find((page) => normalized(page.text).includes(needle));
  return found ? { page: found.page, verified: true } : { page: claimedPage, verified: false };
}
