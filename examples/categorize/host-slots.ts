import { fetchLMStudioJson } from "../../src/lmstudio/fetch-json.js";
import { serverOrigin } from "../../src/lmstudio/urls.js";

/**
 * How many predictions the worker's LM Studio runs at once for the given models: the `parallel`
 * of their loaded instances in `/api/v1/models` (LM Studio 0.4+; JIT loads get 4). Undefined when
 * the server does not say (older servers, or nothing loaded yet): the worker then keeps to the
 * concurrency it was given. More requests than slots only queue on the server and risk timeouts.
 */
export async function reportedParallelSlots(
  server: { baseUrl: string; apiKey?: string },
  modelKeys: readonly string[],
): Promise<number | undefined> {
  let body: unknown;
  try {
    body = await fetchLMStudioJson({
      url: `${serverOrigin(server.baseUrl)}/api/v1/models`,
      baseUrl: server.baseUrl,
      apiKey: server.apiKey,
      timeoutMs: 5000,
    });
  } catch {
    return undefined;
  }
  const models = (body as { models?: unknown })?.models;
  if (!Array.isArray(models)) return undefined;
  const slots: number[] = [];
  for (const model of models as Array<{ key?: unknown; loaded_instances?: unknown }>) {
    if (typeof model.key !== "string" || !Array.isArray(model.loaded_instances)) continue;
    for (const instance of model.loaded_instances as Array<{
      id?: unknown;
      config?: { parallel?: unknown };
    }>) {
      const parallel = instance.config?.parallel;
      const named = modelKeys.includes(model.key) || modelKeys.includes(String(instance.id));
      if (named && typeof parallel === "number" && Number.isInteger(parallel) && parallel > 0) {
        slots.push(parallel);
      }
    }
  }
  return slots.length > 0 ? Math.min(...slots) : undefined;
}
