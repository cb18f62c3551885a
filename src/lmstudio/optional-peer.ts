import { LangChainError, stampRetryable } from "@langchain/core/errors";
import { lmStudioErrorBase } from "./error-brand.js";

/**
 * Heavy or native packages (sharp, unpdf, @napi-rs/canvas, @langchain/ollama) are optional peers,
 * imported on first use so an app that never needs them does not install them. When one is missing,
 * the error says which package, what needed it, and how to install it.
 */
export class MissingOptionalDependencyError extends lmStudioErrorBase(
  LangChainError,
  "missing-optional-dependency",
) {
  override readonly name: string = "MissingOptionalDependencyError";
  constructor(
    readonly packageName: string,
    purpose: string,
    options?: { cause?: unknown; installHint?: string },
  ) {
    super(
      `${purpose} needs the optional package ${packageName}. Install it with: ${options?.installHint ?? `npm install ${packageName}`}`,
    );
    if (options?.cause !== undefined) this.cause = options.cause;
    stampRetryable(this, false);
  }
}

function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
}

/** Runs `importer`, turning "package not installed" into MissingOptionalDependencyError. */
export async function importOptionalPeer<T>(
  packageName: string,
  purpose: string,
  importer: () => Promise<T>,
  installHint?: string,
): Promise<T> {
  try {
    return await importer();
  } catch (error) {
    if (isModuleNotFound(error))
      throw new MissingOptionalDependencyError(packageName, purpose, {
        cause: error,
        ...(installHint ? { installHint } : {}),
      });
    throw error;
  }
}
