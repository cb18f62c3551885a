import type { LoadedInstance, ModelHost } from "../context-guard/host.js";
import { typedHostError } from "../context-guard/typed-host-error.js";
import { LMStudioModelNotFoundError, LMStudioNotEmbeddingModelError } from "../lmstudio/errors.js";
import { fetchLMStudioJson } from "../lmstudio/fetch-json.js";
import { sdkUnavailableErrorFor } from "../lmstudio/sdk-endpoint.js";
import { type EmbeddingModelTokenizer, TokenizerEmbeddingTokenCounter } from "./tokenizer-token-counter.js";

/** What the counter needs from the guard's model host (the one place that talks to the SDK). */
export type EmbeddingModelHost = Pick<ModelHost, "listLoaded" | "listDownloaded" | "load" | "countTokens">;

/** LM Studio's own idle unload time for just-in-time loads, so our load behaves like one. */
const JIT_TTL_SECONDS = 3600;

function findInstance(instances: LoadedInstance[], model: string): LoadedInstance | undefined {
  return (
    instances.find((instance) => instance.identifier === model) ??
    instances.find((instance) => instance.modelKey === model)
  );
}

/** A host failure as the caller's typed error; a server without the SDK endpoint says so by name. */
function typedCounterError(error: unknown, baseUrl: string): unknown {
  return (
    sdkUnavailableErrorFor(
      error,
      baseUrl,
      "LMStudioEmbeddings' long-input check (it counts tokens with the model's own tokenizer)",
      "pass a tokenCounter of your own that matches the embedding model's tokenizer.",
    ) ?? typedHostError(error, baseUrl)
  );
}

/**
 * The loaded embedding instance for `model`, loading it (as LM Studio's JIT would, at the model's
 * declared context) when it is not loaded. A chat model is refused here, before any text is sent.
 */
async function resolveInstance(host: EmbeddingModelHost, model: string, signal?: AbortSignal) {
  const loaded = findInstance(await host.listLoaded(), model);
  if (loaded) {
    if (loaded.type !== "embedding") throw new LMStudioNotEmbeddingModelError(model);
    return loaded.identifier;
  }
  const downloaded = await host.listDownloaded();
  const entry = downloaded.find((candidate) => candidate.key === model);
  if (!entry) {
    const embeddingModels = downloaded
      .filter((candidate) => candidate.type === "embedding")
      .map((m) => m.key);
    throw new LMStudioModelNotFoundError(model, embeddingModels);
  }
  if (entry.type !== "embedding") throw new LMStudioNotEmbeddingModelError(model);
  const result = await host.load(model, {
    identifier: model,
    type: "embedding",
    contextLength: entry.declaredMax,
    ttlSeconds: JIT_TTL_SECONDS,
    signal,
  });
  return result.identifier;
}

export interface HostConnection {
  /** The OpenAI-compatible base URL the host's SDK socket shares a port with. */
  baseUrl: string;
  apiKey?: string;
  fetch?: typeof fetch;
}

/** Time allowed for the reachability check (a local server answers /v1/models in milliseconds). */
const REACHABILITY_TIMEOUT_MS = 10_000;

/**
 * Token counts and loaded context through the context guard's model host: counts with the
 * embedding model's own tokenizer, cached by model and text hash.
 */
export function modelHostTokenCounter(
  host: EmbeddingModelHost,
  connection: HostConnection,
): TokenizerEmbeddingTokenCounter {
  const { baseUrl } = connection;
  return new TokenizerEmbeddingTokenCounter(async (model, signal): Promise<EmbeddingModelTokenizer> => {
    // The SDK keeps reconnecting to a server that is down instead of failing; one HTTP request first
    // turns "LM Studio is not running" into LMStudioUnreachableError at once.
    await fetchLMStudioJson({
      url: `${baseUrl}/models`,
      baseUrl,
      apiKey: connection.apiKey,
      timeoutMs: REACHABILITY_TIMEOUT_MS,
      signal,
      fetch: connection.fetch,
    });
    try {
      const identifier = await resolveInstance(host, model, signal);
      const ref = { identifier, type: "embedding" as const };
      return {
        identifier,
        countTokens: (text) =>
          host.countTokens(ref, text).catch((error) => Promise.reject(typedCounterError(error, baseUrl))),
        async getContextLength() {
          const instance = findInstance(
            await host.listLoaded().catch((error) => Promise.reject(typedCounterError(error, baseUrl))),
            identifier,
          );
          if (!instance) throw new LMStudioModelNotFoundError(identifier, [], "the instance was unloaded");
          return instance.contextLength;
        },
      };
    } catch (error) {
      throw typedCounterError(error, baseUrl);
    }
  });
}
