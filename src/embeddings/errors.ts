import { LangChainError, stampRetryable } from "@langchain/core/errors";
import { lmStudioErrorBase } from "../lmstudio/error-brand.js";

/**
 * Errors specific to embedding. Both are the caller's input or the server's answer being wrong, so
 * they are stamped non-retryable: AsyncCaller gives up at once instead of repeating the same request.
 */

/** An input has more tokens than the embedding model's loaded context and `onLongInput` is "error". */
export class LMStudioInputTooLongError extends lmStudioErrorBase(LangChainError, "input-too-long") {
  override readonly name: string = "LMStudioInputTooLongError";
  constructor(
    readonly model: string,
    readonly inputIndex: number,
    readonly tokenCount: number,
    readonly contextLength: number,
    /** Whether the counts came from LM Studio itself (false: a tokenCounter of the caller's, any server). */
    servedByLMStudio = true,
  ) {
    super(
      `Input ${inputIndex} has ${tokenCount} tokens, more than the ${contextLength}-token context "${model}" is ` +
        `loaded with; ${servedByLMStudio ? "LM Studio would silently truncate it" : "the server may silently truncate or reject it"}. ` +
        "Split it into smaller chunks, load the model with a larger context, or set onLongInput to " +
        '"truncate" or "split".',
    );
    stampRetryable(this, false);
  }
}

/** The server answered with vectors that do not all have the same length (or not the length asked for). */
export class LMStudioEmbeddingDimensionError extends lmStudioErrorBase(
  LangChainError,
  "embedding-dimension",
) {
  override readonly name: string = "LMStudioEmbeddingDimensionError";
  constructor(
    readonly model: string,
    readonly inputIndex: number,
    readonly expectedDimensions: number,
    readonly actualDimensions: number,
    reason: string,
  ) {
    super(
      `Embedding for input ${inputIndex} from "${model}" has ${actualDimensions} dimensions, expected ` +
        `${expectedDimensions} (${reason}).`,
    );
    stampRetryable(this, false);
  }
}

/** The server's answer is not a list of float vectors, one per input (e.g. base64 strings or a short list). */
export class LMStudioMalformedEmbeddingError extends lmStudioErrorBase(
  LangChainError,
  "malformed-embedding",
) {
  override readonly name: string = "LMStudioMalformedEmbeddingError";
  constructor(
    readonly model: string,
    detail: string,
  ) {
    super(`LM Studio returned a malformed embeddings response for "${model}": ${detail}`);
    stampRetryable(this, false);
  }
}
