import type { Category } from "./categories.js";
import { classificationSchema } from "./classification-schema.js";
import { DocumentClassifier } from "./document-classifier.js";
import type { Providers } from "./providers.js";

/** The classification settings a local run and a queue worker share, with one set of defaults. */

export interface ClassificationSettings {
  /** A first pass below this confidence triggers the page-wise vote (default 0.6); also the abstention line. */
  voteBelow?: number;
  /** Most pages classified one by one in a vote (default 8). */
  maxVotePages?: number;
  /** Answer tokens reserved per request (default 400). */
  maxOutputTokens?: number;
  /** Prompt tokens one page image is assumed to cost (default 1024, enough for common local VLMs at 1568 px). */
  imageTokens?: number;
}

export const DEFAULT_VOTE_BELOW = 0.6;
export const DEFAULT_MAX_OUTPUT_TOKENS = 400;

export function createClassifier(
  categories: readonly Category[],
  providers: Pick<Providers, "text" | "vision">,
  settings: ClassificationSettings,
): DocumentClassifier {
  return new DocumentClassifier({
    categories,
    schema: classificationSchema(categories),
    text: providers.text,
    vision: providers.vision,
    maxOutputTokens: settings.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
    voteBelow: settings.voteBelow ?? DEFAULT_VOTE_BELOW,
    maxVotePages: settings.maxVotePages ?? 8,
    imageTokens: settings.imageTokens ?? 1024,
  });
}
