import { unreachableErrorFor } from "../lmstudio/connection-errors.js";
import { LMStudioTimeoutError, LMStudioUnreachableError } from "../lmstudio/errors.js";
import { ModelHostError } from "./host.js";

/**
 * A model-host failure as the LM Studio error a chat or embeddings caller can act on: a dropped or
 * refused SDK socket is `LMStudioUnreachableError`, a missed deadline `LMStudioTimeoutError`. The
 * context search keeps the plain `ModelHostError` kinds; this is for requests made on a user's behalf.
 */
export function typedHostError(error: unknown, baseUrl: string): unknown {
  const unreachable = unreachableErrorFor(error, baseUrl);
  if (unreachable) return unreachable;
  if (!(error instanceof ModelHostError)) return error;
  if (error.kind === "disconnect")
    return new LMStudioUnreachableError(baseUrl, error.detail, { cause: error });
  if (error.kind === "timeout" && error.cause instanceof LMStudioTimeoutError) return error.cause;
  return error;
}
