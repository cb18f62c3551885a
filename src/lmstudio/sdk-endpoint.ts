import { LangChainError, stampRetryable } from "@langchain/core/errors";
import { lmStudioErrorBase } from "./error-brand.js";

/**
 * A server that speaks only the OpenAI-compatible `/v1` API (LM Studio behind a proxy that forwards only
 * `/v1`, llama.cpp's server, vLLM, …) refuses the LM Studio SDK's WebSocket upgrade; the `ws` client then
 * fails with "Unexpected server response: 404". Features that need the SDK (token counting, loading at a
 * chosen context) say so by name instead.
 */
export class LMStudioSdkUnavailableError extends lmStudioErrorBase(LangChainError, "sdk-unavailable") {
  override readonly name: string = "LMStudioSdkUnavailableError";
  constructor(
    readonly baseUrl: string,
    readonly feature: string,
    readonly remedy: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${feature} needs LM Studio's SDK endpoint, and the server at ${baseUrl} has none: it refused the SDK's ` +
        `WebSocket connection (${detail}). This happens when the server is not LM Studio (llama.cpp's server, ` +
        "vLLM, …) or is LM Studio behind a proxy that forwards only /v1. Point the base URL at LM Studio itself " +
        `(a proxy must also forward WebSocket upgrades on the same path), or ${remedy}`,
    );
    if (options?.cause !== undefined) this.cause = options.cause;
    stampRetryable(this, false);
  }
}

const REFUSED_UPGRADE = /Unexpected server response: (\d{3})/;

/** The refused-upgrade text anywhere in an error's cause chain, e.g. "Unexpected server response: 404". */
function refusedUpgrade(error: unknown): string | undefined {
  for (let current = error, depth = 0; current !== undefined && depth < 5; depth++) {
    const message = current instanceof Error ? current.message : typeof current === "string" ? current : "";
    const match = REFUSED_UPGRADE.exec(message);
    if (match) return match[0];
    current = current instanceof Error ? current.cause : undefined;
  }
  return undefined;
}

/** The typed error when `error` is an SDK connection the server refused; undefined otherwise. */
export function sdkUnavailableErrorFor(
  error: unknown,
  baseUrl: string,
  feature: string,
  remedy: string,
): LMStudioSdkUnavailableError | undefined {
  if (error instanceof LMStudioSdkUnavailableError) return error;
  const detail = refusedUpgrade(error);
  return detail === undefined
    ? undefined
    : new LMStudioSdkUnavailableError(baseUrl, feature, remedy, detail, { cause: error });
}
