import { LMStudioInputTooLongError } from "./errors.js";
import { type CountTokens, longestFittingPrefix, splitToFit } from "./text-fitting.js";

/** What to do with an input longer than the embedding model's loaded context. */
export type LongInputPolicy = "error" | "truncate" | "split";

export interface LongInputWarning {
  model: string;
  inputIndex: number;
  tokenCount: number;
  contextLength: number;
  /** Tokens kept after truncation. */
  keptTokens: number;
  message: string;
}

/** One text to send; a split input contributes several, weighted by their token counts. */
export interface EmbeddingPiece {
  inputIndex: number;
  text: string;
  /** Known when the input was counted; only needed to weight the pieces of a split input. */
  tokens?: number;
}

export interface LongInputPlanOptions {
  model: string;
  contextLength: number;
  policy: LongInputPolicy;
  count: CountTokens;
  onTruncate: (warning: LongInputWarning) => void;
  /** The counts came from LM Studio (its SDK); false with a caller's own tokenCounter, whatever the server. */
  servedByLMStudio?: boolean;
}

/**
 * Every tokenizer LM Studio runs (byte-level BPE, SentencePiece with byte fallback, WordPiece) yields at
 * most one token per UTF-8 byte, plus a few special tokens (BOS/EOS, CLS/SEP). A text whose byte length
 * plus this allowance fits the context therefore cannot overflow it, and need not be sent to the
 * tokenizer: that keeps 10,000 short chunks from costing 10,000 counting calls.
 */
const SPECIAL_TOKEN_ALLOWANCE = 16;

function mayExceed(text: string, contextLength: number): boolean {
  return Buffer.byteLength(text, "utf8") + SPECIAL_TOKEN_ALLOWANCE > contextLength;
}

/**
 * Applies the long-input policy: counts the texts that could exceed the loaded context with the
 * model's own tokenizer and errors, truncates (with a warning) or splits each that does. Never
 * returns an over-long piece, so LM Studio never gets to truncate silently.
 */
export async function planEmbeddingPieces(
  texts: string[],
  options: LongInputPlanOptions,
): Promise<EmbeddingPiece[]> {
  const { model, contextLength, policy, count } = options;
  const candidates = texts.flatMap((text, index) => (mayExceed(text, contextLength) ? [index] : []));
  const candidateCounts = await count(candidates.map((index) => texts[index]!));
  const tokensByIndex = new Map(candidates.map((index, i) => [index, candidateCounts[i]!]));

  const pieces: EmbeddingPiece[] = [];
  for (const [inputIndex, text] of texts.entries()) {
    const tokens = tokensByIndex.get(inputIndex);
    if (tokens === undefined || tokens <= contextLength) {
      pieces.push({ inputIndex, text, tokens });
      continue;
    }
    if (policy === "error")
      throw new LMStudioInputTooLongError(model, inputIndex, tokens, contextLength, options.servedByLMStudio);
    if (policy === "truncate") {
      const kept = await longestFittingPrefix(text, contextLength, count);
      options.onTruncate({
        model,
        inputIndex,
        tokenCount: tokens,
        contextLength,
        keptTokens: kept.tokens,
        message:
          `Input ${inputIndex} has ${tokens} tokens but "${model}" is loaded with a ${contextLength}-token ` +
          `context: embedding only its first ${kept.tokens} tokens (${kept.text.length} of ${text.length} ` +
          'characters) because onLongInput is "truncate".',
      });
      pieces.push({ inputIndex, text: kept.text, tokens: kept.tokens });
      continue;
    }
    for (const piece of await splitToFit(text, contextLength, count)) {
      pieces.push({ inputIndex, text: piece.text, tokens: piece.tokens });
    }
  }
  return pieces;
}
