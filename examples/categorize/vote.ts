import type { Classification } from "./classification-schema.js";

/**
 * Page-wise vote for documents the first pass was unsure about: each page's label counts with its
 * confidence as weight (a guessed page should not outvote a certain one), and the winner's
 * confidence is its share of all weight, so a split vote stays visibly unsure.
 */

export interface PageVote {
  /** The page classified, or undefined for the whole-document (head + tail) pass. */
  page?: number;
  classification: Classification;
}

export interface VoteOutcome {
  category: string;
  confidence: number;
  /** The most confident vote for the winning category: its reason and evidence are reported. */
  strongest: PageVote;
}

/** Weight for a vote of confidence 0, so all-zero votes still elect something. */
const MIN_WEIGHT = 0.01;

export function tallyVotes(votes: readonly PageVote[]): VoteOutcome {
  if (votes.length === 0) throw new Error("No votes to tally.");
  const weights = new Map<string, number>();
  let total = 0;
  for (const { classification } of votes) {
    const weight = Math.max(classification.confidence, MIN_WEIGHT);
    weights.set(classification.category, (weights.get(classification.category) ?? 0) + weight);
    total += weight;
  }
  // Ties go to the category voted first (the head + tail pass comes first).
  let category = votes[0]!.classification.category;
  for (const [candidate, weight] of weights) if (weight > weights.get(category)!) category = candidate;
  const strongest = votes
    .filter(({ classification }) => classification.category === category)
    .reduce((best, vote) => (vote.classification.confidence > best.classification.confidence ? vote : best));
  return { category, confidence: weights.get(category)! / total, strongest };
}
