import type { AIMessage, BaseMessage } from "@langchain/core/messages";
import type { Classification, classificationSchema } from "./classification-schema.js";
import type { ModelSlot } from "./providers.js";

/**
 * One structured-output request. The raw message is kept for its token usage; an answer that does
 * not match the schema is asked for once more, since a local model at temperature 0 occasionally
 * breaks the JSON once and then gets it right.
 */

export interface ModelCallResult {
  classification: Classification;
  inputTokens: number;
  outputTokens: number;
  requests: number;
}

const ATTEMPTS = 2;

export async function classifyWith(
  slot: ModelSlot,
  schema: ReturnType<typeof classificationSchema>,
  messages: BaseMessage[],
  signal?: AbortSignal,
): Promise<ModelCallResult> {
  const structured = slot.model.withStructuredOutput(schema, { includeRaw: true, name: "classify_document" });
  let inputTokens = 0;
  let outputTokens = 0;
  let lastProblem: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const { raw, parsed } = await structured.invoke(messages, { signal });
    const usage = (raw as AIMessage).usage_metadata;
    inputTokens += usage?.input_tokens ?? 0;
    outputTokens += usage?.output_tokens ?? 0;
    const checked = schema.safeParse(parsed);
    if (checked.success) {
      return { classification: checked.data, inputTokens, outputTokens, requests: attempt };
    }
    lastProblem = checked.error;
  }
  throw new Error(`The ${slot.label} model gave no valid classification in ${ATTEMPTS} tries.`, {
    cause: lastProblem,
  });
}
