import { importOptionalPeer } from "../lmstudio/optional-peer.js";

/** The `@lmstudio/sdk` module namespace. */
export type LMStudioSdk = typeof import("@lmstudio/sdk");

let loading: Promise<LMStudioSdk> | undefined;

/**
 * Imports `@lmstudio/sdk` on first use and keeps the module. The SDK (and the WebSocket stack under it)
 * is only needed by the guard and by embedding token counts, so the package's root entry must not load
 * it: importing `ChatLMStudio` stays as cheap as importing `@langchain/openai`.
 */
export function loadSdk(): Promise<LMStudioSdk> {
  loading ??= importOptionalPeer(
    "@lmstudio/sdk",
    "The context guard and embedding token counts",
    () => import("@lmstudio/sdk"),
  ).catch((error: unknown) => {
    // A failed import (not installed yet) must not stick: the next call tries again.
    loading = undefined;
    throw error;
  });
  return loading;
}
