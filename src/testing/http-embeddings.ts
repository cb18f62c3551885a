import { requestTtlMs, resolveHttpInstance } from "./http-model-resolution.js";
import { optionalString, requireObjectBody, sendJson, validationError } from "./http-util.js";
import { EMBEDDING_INPUT_INVALID } from "./messages.js";
import type { RouteContext } from "./route-context.js";

function parseInput(value: unknown): string[] {
  if (typeof value === "string") return [value];
  // Token-id arrays (number[] or number[][]) are rejected, as LM Studio does.
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
  throw validationError(EMBEDDING_INPUT_INVALID);
}

/** POST /v1/embeddings and /api/v0/embeddings: always floats, whatever `encoding_format` says. */
export async function handleEmbeddings(ctx: RouteContext): Promise<void> {
  const body = requireObjectBody(ctx.body);
  const model = optionalString(body, "model");
  const inputs = parseInput(body.input);
  const instance = await resolveHttpInstance(ctx.state, model, "embedding", requestTtlMs(ctx.body));
  const vectors: number[][] = [];
  for (const text of inputs) vectors.push(await instance.engine.embed(text));
  sendJson(ctx.res, 200, {
    object: "list",
    data: vectors.map((embedding, index) => ({ object: "embedding", embedding, index })),
    model: instance.identifier,
    usage: { prompt_tokens: 0, total_tokens: 0 },
  });
}
