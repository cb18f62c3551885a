import { LangChainError, stampRetryable } from "@langchain/core/errors";
import { lmStudioErrorBase } from "../lmstudio/error-brand.js";

/**
 * Input problems found before anything is sent to LM Studio. All are the input's fault, so they are
 * stamped non-retryable.
 */

export type ImageInputProblem = "unsupported" | "corrupt" | "too-large" | "download-failed" | "not-found";

/** An image (or PDF) that cannot be turned into something a local VLM accepts. */
export class LMStudioImageInputError extends lmStudioErrorBase(LangChainError, "image-input") {
  override readonly name: string = "LMStudioImageInputError";
  constructor(
    readonly problem: ImageInputProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message);
    if (options?.cause !== undefined) this.cause = options.cause;
    stampRetryable(this, false);
  }
}
