/**
 * `npm run demo`: a short tour of the library against LM Studio at LMSTUDIO_BASE_URL, or, when
 * nothing answers there, against the built-in simulator (and it says so).
 *
 * Shows: chat with usage metadata, streaming, structured output, a tool call, embeddings and the
 * typed context-overflow error.
 */
import { ContextOverflowError } from "@langchain/core/errors";
import { tool } from "@langchain/core/tools";
import { z } from "zod";
import { LMStudioEmbeddings } from "../src/embeddings/index.js";
import { ChatLMStudio, lmStudioSettings } from "../src/index.js";
import { startSimulator } from "../src/testing/index.js";

async function answers(baseUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${baseUrl.replace(/\/+$/, "")}/models`, {
      signal: AbortSignal.timeout(1500),
    });
    return response.ok;
  } catch {
    return false;
  }
}

async function firstModel(baseUrl: string, wantEmbedding: boolean): Promise<string | undefined> {
  const response = await fetch(`${new URL(baseUrl).origin}/api/v0/models`, {
    signal: AbortSignal.timeout(3000),
  });
  if (!response.ok) return undefined;
  const { data } = (await response.json()) as { data: Array<{ id: string; type: string }> };
  return data.find((model) => (model.type === "embeddings") === wantEmbedding)?.id;
}

const settings = lmStudioSettings();
let baseUrl = settings.baseUrl;
let closeSimulator: (() => Promise<void>) | undefined;

if (await answers(baseUrl)) {
  console.log(`Using LM Studio at ${baseUrl}.`);
} else {
  const simulator = await startSimulator({ loadTimeScale: 0 });
  closeSimulator = simulator.close;
  console.log(
    `No LM Studio answered at ${baseUrl}, so this demo uses the built-in simulator at ${simulator.baseUrl}.\n` +
      "Its answers are scripted (echoes, tool calls, schema-valid JSON), not a real model's. " +
      "Start LM Studio's server (`lms server start`) or set LMSTUDIO_BASE_URL to use a real one.\n",
  );
  baseUrl = simulator.baseUrl;
}

try {
  const chatModelKey = settings.model ?? (await firstModel(baseUrl, false));
  const embeddingModelKey = settings.embeddingModel ?? (await firstModel(baseUrl, true));
  if (!chatModelKey) throw new Error(`No chat model found at ${baseUrl}; set LMSTUDIO_MODEL.`);

  const model = new ChatLMStudio(chatModelKey, { baseUrl, temperature: 0, maxTokens: 200 });

  const reply = await model.invoke("Say hello to a LangChain user.");
  console.log(`[invoke] ${reply.text}`);
  console.log(
    `         usage: ${JSON.stringify(reply.usage_metadata)}, model: ${reply.response_metadata.model}`,
  );

  let streamed = "";
  for await (const chunk of await model.stream("Stream a short greeting.")) streamed += chunk.text;
  console.log(`[stream] ${streamed}`);

  const Invoice = z.object({ vendor: z.string(), total: z.number() });
  const invoice = await model.withStructuredOutput(Invoice).invoke("ACME Corp billed us 1250 dollars.");
  console.log(`[structured output] ${JSON.stringify(invoice)}`);

  const lookupPatient = tool(async ({ patientId }) => `Patient ${patientId}: Jane Doe, born 1980.`, {
    name: "lookup_patient",
    description: "Look up a patient record by id",
    schema: z.object({ patientId: z.string() }),
  });
  const toolReply = await model.bindTools([lookupPatient]).invoke("Find the patient with id P-1001.");
  console.log(
    `[tool call] ${JSON.stringify(toolReply.tool_calls?.map(({ name, args }) => ({ name, args })))}`,
  );

  if (embeddingModelKey) {
    const embeddings = new LMStudioEmbeddings({ model: embeddingModelKey, baseUrl });
    const vectors = await embeddings.embedDocuments(["medical record", "invoice", "court pleading"]);
    console.log(`[embeddings] ${vectors.length} vectors of ${vectors[0]?.length} floats`);
  }

  try {
    await model.invoke("word ".repeat(40_000));
  } catch (error) {
    if (!ContextOverflowError.isInstance(error)) throw error;
    console.log(`[overflow] a typed ContextOverflowError: ${error.message.slice(0, 120)}…`);
  }
} finally {
  await closeSimulator?.();
}
