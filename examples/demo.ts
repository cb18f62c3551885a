/**
 * `npm run example:tour`: a short tour of the library against LM Studio at LMSTUDIO_BASE_URL, or, when
 * nothing answers there, against the built-in simulator (and it says so).
 *
 * Shows: chat with usage metadata, streaming, structured output, a tool call, embeddings and the
 * typed context-overflow error.
 */
import { ContextOverflowError } from "@langchain/core/errors";
import { tool } from "@langchain/core/tools";
import { z } from "zod";
import { ChatLMStudio, LMStudioEmbeddings } from "../src/index.js";
import { lmStudioOrSimulator } from "./lmstudio-or-simulator.js";

const server = await lmStudioOrSimulator();
const { baseUrl } = server;
console.log();

try {
  const chatModelKey = server.pick("chat");
  const embeddingModelKey = server.pick("embedding");
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
  await server.close();
}
