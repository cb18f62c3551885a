/**
 * LM Studio serves the OpenAI-compatible API (…/v1), its REST APIs (/api/v0, /api/v1) and the SDK's
 * WebSocket protocol on one port. These helpers derive each from the one base URL the user gives.
 */

/** `http://host:1234/v1/` → `http://host:1234/v1` (adds /v1 when the user gave only the origin). */
export function normalizeBaseUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  let path = url.pathname.replace(/\/+$/, "");
  if (path === "") path = "/v1";
  return `${url.origin}${path}`;
}

/** The server's origin, e.g. `http://host:1234`, for /api/v0 and /api/v1 routes. */
export function serverOrigin(baseUrl: string): string {
  return new URL(baseUrl).origin;
}

/**
 * `url` without `user:password@`, for messages and output: credentials in a base URL must never be
 * printed. Text that is not a URL has anything between `//` and `@` removed.
 */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === "" && parsed.password === "") return url;
    parsed.username = "";
    parsed.password = "";
    return parsed.href;
  } catch {
    return url.replace(/\/\/[^/@\s]*@/g, "//");
  }
}

/** The SDK's WebSocket URL: `http://host:1234/v1` → `ws://host:1234` (https → wss). */
export function sdkWebSocketUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  const protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return `${protocol}//${url.host}`;
}
