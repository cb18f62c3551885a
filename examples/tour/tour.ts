/**
 * A short tour of the library: chat with usage metadata, streaming, structured output, a tool call,
 * embeddings and the typed context-overflow error, against LM Studio at LMSTUDIO_BASE_URL or, when
 * nothing answers there, the built-in simulator (and it says so).
 */
import { ContextOverflowError } from "@langchain/core/errors";
import type { UsageMetadata } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { z } from "zod";
import { ChatLMStudio, LMStudioEmbeddings } from "../../src/index.js";
import { lmStudioOrSimulator } from "../lmstudio-or-simulator.js";

const Invoice = z.object({ vendor: z.string(), total: z.number() });

export interface TourOptions {
  baseUrl?: string;
  log?: (line: string) => void;
}

export interface TourResult {
  simulated: boolean;
  chatModel: string;
  reply: { text: string; usage?: UsageMetadata; model: unknown };
  streamed: { text: string; chunks: number };
  invoice: z.infer<typeof Invoice>;
  toolCalls: Array<{ name: string; args: Record<string, unknown> }>;
  /** Undefined when the server has no embedding model. */
  embeddings?: { count: number; dimensions: number };
  /** The typed error a prompt far past the loaded context gives. */
  overflow: { isContextOverflowError: boolean; message: string };
}

const lookupPatient = tool(async ({ patientId }) => `Patient ${patientId}: Jane Doe, born 1980.`, {
  name: "lookup_patient",
  description: "Look up a patient record by id",
  schema: z.object({ patientId: z.string() }),
});

export async function run(options: TourOptions = {}): Promise<TourResult> {
  const server = await lmStudioOrSimulator({
    ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  try {
    const chatModel = server.pick("chat");
    if (!chatModel) throw new Error(`No chat model found at ${server.baseUrl}; set LMSTUDIO_MODEL.`);
    const model = new ChatLMStudio(chatModel, {
      baseUrl: server.baseUrl,
      ...(server.apiKey !== undefined ? { apiKey: server.apiKey } : {}),
      temperature: 0,
      maxTokens: 200,
    });

    const reply = await model.invoke("Say hello to a LangChain user.");

    let streamedText = "";
    let chunks = 0;
    for await (const chunk of await model.stream("Stream a short greeting.")) {
      streamedText += chunk.text;
      chunks++;
    }

    // Parsing again gives the static type (and would catch a model that ignored the schema).
    const invoice = Invoice.parse(
      await model.withStructuredOutput(Invoice).invoke("ACME Corp billed us 1250 dollars."),
    );
    const toolReply = await model.bindTools([lookupPatient]).invoke("Find the patient with id P-1001.");

    let embeddings: TourResult["embeddings"];
    const embeddingModel = server.pick("embedding");
    if (embeddingModel) {
      const embedder = new LMStudioEmbeddings({ model: embeddingModel, baseUrl: server.baseUrl });
      const vectors = await embedder.embedDocuments(["medical record", "invoice", "court pleading"]);
      embeddings = { count: vectors.length, dimensions: vectors[0]?.length ?? 0 };
    }

    const overflowError = await model.invoke("word ".repeat(40_000)).then(
      () => undefined,
      (error: unknown) => error,
    );
    if (overflowError === undefined)
      throw new Error("A 40,000-word prompt fitted: the overflow step shows nothing.");

    return {
      simulated: server.simulated,
      chatModel,
      reply: { text: reply.text, usage: reply.usage_metadata, model: reply.response_metadata.model },
      streamed: { text: streamedText, chunks },
      invoice,
      toolCalls: (toolReply.tool_calls ?? []).map(({ name, args }) => ({ name, args })),
      embeddings,
      overflow: {
        isContextOverflowError: ContextOverflowError.isInstance(overflowError),
        message: overflowError instanceof Error ? overflowError.message : String(overflowError),
      },
    };
  } finally {
    await server.close();
  }
}
