import { ContextOverflowError, LangChainError } from "@langchain/core/errors";
import { describe, expect, it } from "vitest";
import * as configEntry from "../../src/config/index.js";
import * as guardEntry from "../../src/context-guard/index.js";
import * as rootEntry from "../../src/index.js";
import * as visionEntry from "../../src/vision/index.js";

/** Every public entry point's exports: errors live in the root entry and in the subpaths. */
const library = { ...rootEntry, ...guardEntry, ...visionEntry, ...configEntry };

/**
 * issue 16.1: core's `Symbol.hasInstance` made every LangChainError subclass `instanceof` every other.
 * The whole matrix of exported error classes: `a instanceof B` (and `B.isInstance(a)` where B has it)
 * must hold exactly when B's prototype is on a's prototype chain.
 */

type ErrorClass = abstract new (...args: never[]) => Error;

/** One real instance per exported error class (built through its constructor, as users get them). */
const samples: Record<string, () => Error> = {
  LMStudioContextOverflowError: () =>
    new library.LMStudioContextOverflowError("overflow", { dialect: "lmstudio-0.4" }),
  LMStudioModelNotFoundError: () => new library.LMStudioModelNotFoundError("m", ["a"]),
  LMStudioNoModelLoadedError: () => new library.LMStudioNoModelLoadedError(),
  LMStudioNoModelSelectedError: () => new library.LMStudioNoModelSelectedError(),
  LMStudioNotEmbeddingModelError: () => new library.LMStudioNotEmbeddingModelError("m"),
  LMStudioVisionNotSupportedError: () => new library.LMStudioVisionNotSupportedError("m", []),
  LMStudioUnreachableError: () => new library.LMStudioUnreachableError("http://x/v1", "ECONNREFUSED"),
  LMStudioInvalidApiKeyError: () => new library.LMStudioInvalidApiKeyError("contains a control character"),
  LMStudioTimeoutError: () => new library.LMStudioTimeoutError("a call", 10),
  LMStudioRequestError: () => new library.LMStudioRequestError("failed", 500, "body"),
  LMStudioEmptyResponseError: () => new library.LMStudioEmptyResponseError("m"),
  LMStudioInputTooLongError: () => new library.LMStudioInputTooLongError("m", 0, 10, 5),
  LMStudioEmbeddingDimensionError: () => new library.LMStudioEmbeddingDimensionError("m", 0, 3, 2, "r"),
  LMStudioMalformedEmbeddingError: () => new library.LMStudioMalformedEmbeddingError("m", "detail"),
  LMStudioImageInputError: () => new library.LMStudioImageInputError("corrupt", "bad image"),
  MissingOptionalDependencyError: () => new library.MissingOptionalDependencyError("sharp", "Resizing"),
  ModelHostError: () => new library.ModelHostError("disconnect", "gone"),
  ModelBusyError: () => new library.ModelBusyError("busy"),
  LMStudioSdkUnavailableError: () =>
    new library.LMStudioSdkUnavailableError("http://x/v1", "The context guard", "turn it off.", "404"),
  LMStudioKvCacheExhaustedError: () =>
    new library.LMStudioKvCacheExhaustedError("m", "Context size has been exceeded."),
  ContextGuardAdmissionTimeoutError: () =>
    new library.ContextGuardAdmissionTimeoutError(
      "m",
      10,
      5,
      { contextLength: 8, parallel: 4, unified: true },
      { requests: 1, tokens: 4 },
    ),
  ContextGuardUntestedModelError: () => new library.ContextGuardUntestedModelError("m", "0.4.0", 4096),
  InvalidEnvironmentError: () => new library.InvalidEnvironmentError([{ variable: "X", problem: "bad" }]),
  DotEnvFileError: () => new library.DotEnvFileError("/app/.env", "is not a regular file"),
};

/** Whether `proto` is on `value`'s prototype chain: what instanceof should answer. */
function hasOnChain(value: object, proto: object): boolean {
  for (
    let current = Object.getPrototypeOf(value);
    current !== null;
    current = Object.getPrototypeOf(current)
  ) {
    if (current === proto) return true;
  }
  return false;
}

function exportedErrorClasses(): Array<[string, ErrorClass]> {
  const found: Array<[string, ErrorClass]> = [];
  for (const [name, value] of Object.entries(library as Record<string, unknown>)) {
    if (typeof value !== "function") continue;
    const prototype: unknown = value.prototype;
    if (typeof prototype === "object" && prototype !== null && hasOnChain(prototype, Error.prototype))
      found.push([name, value as ErrorClass]);
  }
  return found;
}

const classes = exportedErrorClasses();
/** The exported classes plus core's two that ours extend. */
const targets: Array<[string, ErrorClass]> = [
  ...classes,
  ["LangChainError", LangChainError as unknown as ErrorClass],
  ["ContextOverflowError", ContextOverflowError as unknown as ErrorClass],
];

describe("exported error classes", () => {
  it("each has a sample here, so a new class cannot skip the matrix", () => {
    expect(classes.map(([name]) => name).sort()).toEqual(Object.keys(samples).sort());
  });

  it("instanceof and isInstance follow the prototype chain for every ordered pair", () => {
    const wrong: string[] = [];
    let pairs = 0;
    for (const [name, make] of Object.entries(samples)) {
      const error = make();
      expect(error.constructor.name).toBe(name);
      for (const [targetName, Target] of targets) {
        pairs++;
        const expected = hasOnChain(error, Target.prototype);
        if (error instanceof Target !== expected) wrong.push(`${name} instanceof ${targetName}`);
        const isInstance = (Target as unknown as { isInstance?: (value: unknown) => boolean }).isInstance;
        if (isInstance && isInstance.call(Target, error) !== expected)
          wrong.push(`${targetName}.isInstance(${name})`);
      }
    }
    expect(wrong).toEqual([]);
    expect(pairs).toBe(Object.keys(samples).length * targets.length);
  });

  it("keeps core's family checks: LangChainError for all ours, ContextOverflowError for overflow", () => {
    const overflow = samples.LMStudioContextOverflowError?.() as Error;
    expect(ContextOverflowError.isInstance(overflow)).toBe(true);
    expect(overflow).toBeInstanceOf(ContextOverflowError);
    expect(library.LMStudioContextOverflowError.isInstance(overflow)).toBe(true);
    const request = samples.LMStudioRequestError?.() as Error;
    expect(ContextOverflowError.isInstance(request)).toBe(false);
    expect(LangChainError.isInstance(request)).toBe(true);
    expect(library.LMStudioUnreachableError.isInstance(request)).toBe(false);
    expect(request instanceof library.LMStudioModelNotFoundError).toBe(false);
  });
});
