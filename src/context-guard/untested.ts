import { LangChainError, stampRetryable } from "@langchain/core/errors";
import { lmStudioErrorBase } from "../lmstudio/error-brand.js";

/** What the guard does with a model that has no tested limits (README "Untested models"). */
export type UntestedModelPolicy = "fail" | "measure" | "declared";

/** The guard was asked to run an LLM nobody has measured, under the "fail" policy. */
export class ContextGuardUntestedModelError extends lmStudioErrorBase(
  LangChainError,
  "guard-untested-model",
) {
  override readonly name: string = "ContextGuardUntestedModelError";
  constructor(
    readonly model: string,
    readonly lmStudioVersion: string,
    readonly declaredMax: number,
  ) {
    super(
      `The context guard has no tested context for "${model}" on LM Studio ${lmStudioVersion}, and its declared ` +
        `${declaredMax} tokens may be more than it really handles. Measure it once with ` +
        `\`npx langchain-lmstudio test ${model}\`, or create the guard with untested: "measure" (measure on first ` +
        `use) or untested: "declared" (use the declared maximum, with a warning).`,
    );
    stampRetryable(this, false);
  }
}
