import { connectFailureCode } from "../lmstudio/connection-errors.js";
import { LMStudioUnreachableError } from "../lmstudio/errors.js";
import { withoutCredentials as stripCredentials } from "../lmstudio/urls.js";

/**
 * One HTTP request before any SDK call: a stopped server then gives every command the same
 * actionable message at once, instead of whatever the WebSocket layer says (or never says).
 * Any HTTP answer counts as reachable; authentication problems are reported by the command itself.
 */
export async function ensureReachable(
  baseUrl: string,
  options: { apiKey?: string; timeoutMs: number },
): Promise<void> {
  // fetch refuses URLs with `user:pass@`; such credentials (for a proxy in front) go in a header.
  const parsed = new URL(baseUrl);
  const basic =
    parsed.username !== "" || parsed.password !== ""
      ? Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString(
          "base64",
        )
      : undefined;
  const url = `${withoutCredentials(baseUrl).replace(/\/+$/, "")}/models`;
  const authorization = options.apiKey ? `Bearer ${options.apiKey}` : basic ? `Basic ${basic}` : undefined;
  try {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(options.timeoutMs),
      ...(authorization ? { headers: { Authorization: authorization } } : {}),
    });
    await response.body?.cancel();
  } catch (error) {
    const timedOut = error instanceof Error && error.name === "TimeoutError";
    const detail = error instanceof Error ? causeMessage(error) : String(error);
    const reason = timedOut
      ? `no answer within ${Math.round(options.timeoutMs / 1000)} s`
      : detail === "bad port"
        ? `Node's fetch refuses port ${parsed.port} as unsafe, so no request was sent; use another port`
        : (connectFailureCode(error) ?? detail);
    throw new LMStudioUnreachableError(withoutCredentials(baseUrl), reason, { cause: error });
  }
}

/** The URL as printed: no user:password (the one rule lives in lmstudio/urls.ts), no trailing slash. */
export function withoutCredentials(url: string): string {
  const shown = stripCredentials(url);
  return shown === url ? url : shown.replace(/\/$/, "");
}

function causeMessage(error: Error): string {
  return error.cause instanceof Error ? error.cause.message : error.message;
}
