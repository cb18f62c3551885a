/**
 * Retrieval-augmented answers over a small case file: chunks embedded with LMStudioEmbeddings into an
 * in-memory cosine store, the closest chunks put in front of the question, ChatLMStudio answers.
 */
import { Document } from "@langchain/core/documents";
import { ChatLMStudio, LMStudioEmbeddings } from "../../src/index.js";
import { lmStudioOrSimulator } from "../lmstudio-or-simulator.js";
import { CosineVectorStore } from "./cosine-store.js";

/** A made-up case file: one short document per source, paragraphs become chunks. */
export const CASE_FILE: Record<string, string> = {
  "discharge-summary.txt":
    "Patient Jane Doe was admitted on 3 March 2024 after a fall at the warehouse.\n\n" +
    "Diagnosis: fractured left wrist. Treatment: closed reduction and a cast for six weeks.\n\n" +
    "Follow-up with the orthopaedic clinic is scheduled for 17 March 2024.",
  "invoice-4471.txt":
    "Invoice 4471 from City Hospital to Jane Doe.\n\n" +
    "Emergency room visit 850 dollars. X-ray of the left wrist 240 dollars. Cast 310 dollars.\n\n" +
    "Total due 1400 dollars within 30 days.",
  "complaint.txt":
    "Jane Doe, plaintiff, against Acme Logistics, defendant, in the Superior Court.\n\n" +
    "The plaintiff alleges the defendant failed to repair a broken loading ramp, causing her fall.\n\n" +
    "The plaintiff seeks damages for medical expenses and lost wages.",
  "letter-to-insurer.txt":
    "Dear claims adjuster, we write on behalf of our client Jane Doe regarding claim 88-2031.\n\n" +
    "Please preserve all warehouse camera recordings from 3 March 2024.",
};

export interface RagOptions {
  baseUrl?: string;
  question?: string;
  /** Chunks put in front of the question (default 3). */
  k?: number;
  log?: (line: string) => void;
}

export interface RagResult {
  simulated: boolean;
  chatModel: string;
  embeddingModel: string;
  chunksIndexed: number;
  dimensions: number;
  question: string;
  retrieved: Array<{ source: string; score: number; text: string }>;
  answer: string;
}

const DEFAULT_QUESTION = "What was the diagnosis and treatment of the left wrist?";

function chunk(source: string, text: string): Document[] {
  return text
    .split(/\n\s*\n/)
    .map((paragraph, index) => new Document({ pageContent: paragraph.trim(), metadata: { source, index } }));
}

export async function run(options: RagOptions = {}): Promise<RagResult> {
  const server = await lmStudioOrSimulator({
    ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  try {
    const chatModel = server.pick("chat");
    const embeddingModel = server.pick("embedding");
    if (!chatModel || !embeddingModel) {
      throw new Error(
        `${server.baseUrl} needs a chat and an embedding model; set LMSTUDIO_MODEL and LMSTUDIO_EMBEDDING_MODEL.`,
      );
    }
    const auth = server.apiKey !== undefined ? { apiKey: server.apiKey } : {};
    const embeddings = new LMStudioEmbeddings({ model: embeddingModel, baseUrl: server.baseUrl, ...auth });
    const store = new CosineVectorStore(embeddings);
    await store.addDocuments(Object.entries(CASE_FILE).flatMap(([source, text]) => chunk(source, text)));

    const question = options.question ?? DEFAULT_QUESTION;
    const queryVector = await embeddings.embedQuery(question);
    const hits = await store.similaritySearchVectorWithScore(queryVector, options.k ?? 3);
    const context = hits
      .map(([document], i) => `[${i + 1}] (${document.metadata.source}) ${document.pageContent}`)
      .join("\n");
    const llm = new ChatLMStudio(chatModel, {
      baseUrl: server.baseUrl,
      ...auth,
      temperature: 0,
      maxTokens: 300,
    });
    // Context and question in one user message: the shape small local models follow most reliably.
    const reply = await llm.invoke([
      [
        "system",
        "Answer from the numbered excerpts only and cite them like [1]. Say so if they do not answer it.",
      ],
      ["user", `Excerpts:\n${context}\n\nQuestion: ${question}`],
    ]);
    return {
      simulated: server.simulated,
      chatModel,
      embeddingModel,
      chunksIndexed: store.size,
      dimensions: queryVector.length,
      question,
      retrieved: hits.map(([document, score]) => ({
        source: String(document.metadata.source),
        score,
        text: document.pageContent,
      })),
      answer: reply.text,
    };
  } finally {
    await server.close();
  }
}
