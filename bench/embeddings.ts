import { OpenAIEmbeddings } from "@langchain/openai";
import { LMStudioEmbeddings } from "../src/index.js";
import { countSimulatorTokens } from "../src/testing/index.js";
import { formatMs, formatRatio, measureRounds, type RoundOptions, ratios, table } from "./stats.js";

/**
 * 2,000 chunks embedded three ways against the same server: LMStudioEmbeddings (batched, token-counted
 * through the model's tokenizer first), one request per text in a loop, and OpenAIEmbeddings asking
 * for floats. Every call gets texts it has not seen, so no token-count cache makes a call look cheaper.
 */

const MODEL = "text-embedding-nomic-embed-text-v1.5";
export const CHUNKS = 2000;
const WORDS = [
  "patient",
  "invoice",
  "court",
  "ramp",
  "wrist",
  "claim",
  "record",
  "total",
  "visit",
  "witness",
  "motion",
  "exhibit",
];

let call = 0;
function freshChunks(): string[] {
  call += 1;
  return Array.from({ length: CHUNKS }, (_, i) => {
    const words = Array.from({ length: 30 }, (_, w) => WORDS[(i * 7 + w * 3 + call) % WORDS.length]);
    return `call ${call} chunk ${i}: ${words.join(" ")}.`;
  });
}

export async function benchEmbeddings(baseUrl: string, rounds: RoundOptions): Promise<string> {
  const ours = new LMStudioEmbeddings({ model: MODEL, baseUrl, apiKey: "lm-studio" });
  const openAI = new OpenAIEmbeddings({
    model: MODEL,
    apiKey: "lm-studio",
    configuration: { baseURL: baseUrl },
    encodingFormat: "float",
  });
  const onePerText = async (texts: string[]) => {
    const vectors: number[][] = [];
    for (const text of texts) {
      const response = await fetch(`${baseUrl}/embeddings`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: MODEL, input: text, encoding_format: "float" }),
      });
      const body = (await response.json()) as { data: Array<{ embedding: number[] }> };
      vectors.push(body.data[0]!.embedding);
    }
    return vectors;
  };

  const check = (expected: number) => (vectors: number[][]) => {
    if (vectors.length !== expected || vectors[0]?.length !== 768) throw new Error("wrong embedding output");
  };
  const samples = await measureRounds(
    {
      LMStudioEmbeddings: () => ours.embedDocuments(freshChunks()).then(check(CHUNKS)),
      "one request per text": () => onePerText(freshChunks()).then(check(CHUNKS)),
      "OpenAIEmbeddings (float)": () => openAI.embedDocuments(freshChunks()).then(check(CHUNKS)),
    },
    rounds,
  );
  const baseline = samples.LMStudioEmbeddings!;
  const rows = Object.entries(samples).map(([name, values]) => [
    name,
    formatMs(values),
    `${(CHUNKS / (values.reduce((a, b) => a + b, 0) / values.length / 1000)).toFixed(0)}`,
    name === "LMStudioEmbeddings" ? "1" : formatRatio(ratios(values, baseline)),
  ]);
  const tokens = freshChunks().map(countSimulatorTokens);
  const meanTokens = tokens.reduce((a, b) => a + b, 0) / tokens.length;
  return `embeddings: ${CHUNKS} chunks of ~${meanTokens.toFixed(0)} tokens per call, 768 dimensions\n${table(
    ["client", "median per 2,000 (min–max)", "chunks/s", "time vs LMStudioEmbeddings"],
    rows,
  )}`;
}
