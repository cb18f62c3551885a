import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { HumanMessage } from "@langchain/core/messages";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createContextGuard } from "../../src/context-guard/index.js";
import {
  LMStudioEmbeddings,
  LMStudioInputTooLongError,
  LMStudioSdkUnavailableError,
} from "../../src/index.js";

/** A server that speaks only /v1 (like llama.cpp's server, or LM Studio behind a /v1-only proxy). */
let server: Server;
let baseUrl: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/v1/models") {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ object: "list", data: [{ id: "embedder", object: "model" }] }));
      return;
    }
    res.statusCode = 404;
    res.end("Not Found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const long = "word ".repeat(5000);

describe("servers that speak only /v1", () => {
  it("LMStudioEmbeddings' default long-input check names the missing SDK endpoint and the remedy", async () => {
    const embeddings = new LMStudioEmbeddings({ baseUrl, model: "embedder", maxRetries: 0 });
    const error = await embeddings.embedDocuments([long]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioSdkUnavailableError);
    expect(error).toMatchObject({ baseUrl });
    const message = (error as Error).message;
    expect(message).toContain("Unexpected server response: 404");
    expect(message).toContain("has no");
    expect(message).toContain("pass a tokenCounter of your own");
  });

  it("contextGuard fails with the same typed error, naming the guard and how to turn it off", async () => {
    const guard = createContextGuard({ baseUrl, registryPath: "/nonexistent/never-written.json" });
    try {
      const error = await guard
        .clampChat({ model: "m", messages: [new HumanMessage("hi")], overflow: "error" })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LMStudioSdkUnavailableError);
      expect((error as Error).message).toMatch(/^The context guard needs LM Studio's SDK endpoint/);
      expect((error as Error).message).toContain("turn contextGuard off");
    } finally {
      await guard.close();
    }
  });

  it("LMStudioInputTooLongError does not claim LM Studio truncates when the counts are the caller's", async () => {
    const embeddings = new LMStudioEmbeddings({
      baseUrl,
      model: "embedder",
      maxRetries: 0,
      tokenCounter: {
        loadedModel: async () => ({ identifier: "embedder", contextLength: 512 }),
        countTokens: async (_model, texts) => texts.map((t) => t.split(" ").length),
      },
    });
    const error = await embeddings.embedDocuments([long]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioInputTooLongError);
    expect((error as Error).message).not.toContain("LM Studio would");
    expect((error as Error).message).toContain("the server may silently truncate or reject it");
    expect(new LMStudioInputTooLongError("m", 0, 10, 5).message).toContain(
      "LM Studio would silently truncate it",
    );
  });
});
