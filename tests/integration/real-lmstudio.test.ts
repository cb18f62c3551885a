/**
 * Against a real LM Studio: runs only when one answers at LMSTUDIO_BASE_URL (default
 * http://localhost:1234/v1), and is skipped otherwise. Everything here is also covered against the
 * simulator; these checks exist to catch where the simulator and a real server disagree.
 */
import { describe, expect, it } from "vitest";
import { lmStudioSettings } from "../../src/config/index.js";
import { SdkModelHost } from "../../src/context-guard/index.js";
import { ChatLMStudio, LMStudioEmbeddings } from "../../src/index.js";
import { listLMStudioModels } from "../../src/lmstudio/model-info.js";

const { baseUrl, apiKey } = lmStudioSettings();

async function lmStudioAnswers(): Promise<boolean> {
  try {
    const response = await fetch(`${baseUrl}/models`, {
      signal: AbortSignal.timeout(1500),
      headers: apiKey ? { Authorization: `Bearer ${apiKey}` } : {},
    });
    return response.ok;
  } catch {
    return false;
  }
}

const reachable = await lmStudioAnswers();

describe.runIf(reachable)(`a real LM Studio at ${baseUrl}`, async () => {
  const models = reachable ? await listLMStudioModels({ baseUrl, apiKey }) : [];
  const llm = models.find((model) => model.type === "llm");
  const embedding = models.find((model) => model.type === "embedding");

  it.runIf(llm)("answers invoke and stream with usage and the model's name", async () => {
    const model = new ChatLMStudio(llm!.key, { baseUrl, apiKey, temperature: 0, maxTokens: 32 });
    const reply = await model.invoke("Reply with the single word: ready");
    expect(reply.text.length).toBeGreaterThan(0);
    expect(reply.usage_metadata?.input_tokens).toBeGreaterThan(0);
    expect(typeof reply.response_metadata.model).toBe("string");

    let streamed: Awaited<ReturnType<typeof model.invoke>> | undefined;
    for await (const chunk of await model.stream("Reply with the single word: ready")) {
      streamed = streamed ? streamed.concat(chunk) : chunk;
    }
    expect(streamed?.usage_metadata?.output_tokens).toBeGreaterThan(0);
  });

  it.runIf(embedding)("returns float vectors of one dimension", async () => {
    const embeddings = new LMStudioEmbeddings({ model: embedding!.key, baseUrl, apiKey });
    const vectors = await embeddings.embedDocuments(["a", "b c"]);
    expect(vectors).toHaveLength(2);
    expect(vectors[0]!.length).toBeGreaterThan(0);
    expect(vectors[1]!.length).toBe(vectors[0]!.length);
  });

  it.runIf(llm)("loads through the SDK at a requested context and reads it back", async () => {
    const host = new SdkModelHost({ baseUrl, apiKey });
    try {
      const load = await host.load(llm!.key, {
        type: "llm",
        identifier: `langchain-lmstudio-int-${process.pid}`,
        contextLength: 4096,
        ttlSeconds: 120,
      });
      expect(load.actual).toBeGreaterThan(0);
      // LM Studio 0.4 may auto-fit; the host reports whether the request was honoured.
      expect(load.honoured).toBe(load.actual === 4096);
    } finally {
      await host.close();
    }
  });
});
