import { ns } from "@langchain/core/errors";

/**
 * Core's error classes answer `instanceof` through `Symbol.hasInstance`, which checks a brand symbol.
 * A subclass that adds no brand of its own inherits its parent's check, so every LangChainError
 * subclass would be `instanceof` every other. Each of our error classes therefore extends its base
 * through this, which stamps a brand per class: `instanceof` and `isInstance` follow the real
 * hierarchy, and core's own checks (`ContextOverflowError.isInstance`) still see the parent's brand.
 */
const lmStudioErrors = ns.sub("lmstudio");

/** `Base` with a brand for one error class; `marker` must be unique among this package's errors. */
export function lmStudioErrorBase<TBase extends abstract new (...args: never[]) => Error>(
  Base: TBase,
  marker: string,
) {
  return lmStudioErrors.brand(Base, marker);
}
