import { importOptionalPeer } from "../lmstudio/optional-peer.js";

/** The `@lmstudio/sdk` module namespace. */
export type LMStudioSdk = typeof import("@lmstudio/sdk");

let loading: Promise<LMStudioSdk> | undefined;

/**
 * The SDK is an optional dependency: npm installs it with the package, except where its 2.x cannot be
 * installed (registries without @lmstudio/lms-isomorphic 0.5), where npm leaves it out; 1.x works there.
 */
const INSTALL_HINT =
  "npm install @lmstudio/sdk (or @lmstudio/sdk@1 if npm cannot find @lmstudio/lms-isomorphic@^0.5.0)";

/**
 * Imports `@lmstudio/sdk` (1.3 or later, 1.x or 2.x) on first use and keeps the module. The SDK and the
 * WebSocket stack under it are only needed by the guard and by embedding token counts, so the package's
 * root entry must not load it: importing `ChatLMStudio` stays as cheap as importing `@langchain/openai`.
 */
export function loadSdk(): Promise<LMStudioSdk> {
  loading ??= importOptionalPeer(
    "@lmstudio/sdk",
    "Talking to LM Studio's SDK socket (the context guard, LMStudioEmbeddings' token counts)",
    () => import("@lmstudio/sdk"),
    INSTALL_HINT,
  ).catch((error: unknown) => {
    // A failed import (not installed yet) must not stick: the next call tries again.
    loading = undefined;
    throw error;
  });
  return loading;
}
