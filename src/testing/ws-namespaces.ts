import { embeddingEndpoints } from "./ws-embedding.js";
import { filesEndpoints } from "./ws-files.js";
import { llmEndpoints } from "./ws-llm.js";
import type { NamespaceEndpoints } from "./ws-protocol.js";
import { systemEndpoints } from "./ws-system.js";

/** Every namespace the SDK may open; the ones without endpoints still authenticate. */
export const SDK_NAMESPACES: readonly string[] = [
  "llm",
  "embedding",
  "system",
  "diagnostics",
  "files",
  "repository",
  "plugins",
  "runtime",
];

const EMPTY: NamespaceEndpoints = { rpc: {}, channels: {} };

export function sdkEndpointsFor(namespace: string): NamespaceEndpoints {
  if (namespace === "system") return systemEndpoints;
  if (namespace === "llm") return llmEndpoints;
  if (namespace === "embedding") return embeddingEndpoints;
  if (namespace === "files") return filesEndpoints;
  return EMPTY;
}
