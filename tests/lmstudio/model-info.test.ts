import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  connectFailureCode,
  findModelInfo,
  listLMStudioModels,
  loadedContextLength,
  visionModelKeys,
} from "../../src/lmstudio/index.js";

const ORIGIN = "http://studio.test:1234";
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const v1Models = {
  models: [
    {
      type: "llm",
      key: "qwen2.5-7b-instruct",
      max_context_length: 32768,
      capabilities: { vision: false, trained_for_tool_use: true },
      loaded_instances: [{ id: "qwen2.5-7b-instruct", config: { context_length: 4096 } }],
    },
    {
      type: "llm",
      key: "qwen2-vl-2b-instruct",
      max_context_length: 32768,
      capabilities: { vision: true },
      loaded_instances: [],
    },
    {
      type: "embedding",
      key: "text-embedding-nomic-embed-text-v1.5",
      max_context_length: 2048,
      loaded_instances: [],
    },
  ],
};

describe("listLMStudioModels", () => {
  it("reads /api/v1/models: loaded context, vision and tool capabilities", async () => {
    server.use(http.get(`${ORIGIN}/api/v1/models`, () => HttpResponse.json(v1Models)));
    const models = await listLMStudioModels({ baseUrl: `${ORIGIN}/v1` });
    const qwen = findModelInfo(models, "qwen2.5-7b-instruct");
    expect(qwen).toMatchObject({ type: "llm", toolUse: true, vision: false, maxContextLength: 32768 });
    expect(qwen && loadedContextLength(qwen, "qwen2.5-7b-instruct")).toBe(4096);
    expect(visionModelKeys(models)).toEqual(["qwen2-vl-2b-instruct"]);
    expect(findModelInfo(models, "text-embedding-nomic-embed-text-v1.5")?.type).toBe("embedding");
  });

  it("falls back to /api/v0/models on servers without /api/v1", async () => {
    server.use(
      http.get(
        `${ORIGIN}/api/v1/models`,
        () => new HttpResponse("Cannot GET /api/v1/models", { status: 404 }),
      ),
      http.get(`${ORIGIN}/api/v0/models`, () =>
        HttpResponse.json({
          object: "list",
          data: [
            {
              id: "qwen2-vl-7b-instruct",
              type: "vlm",
              state: "loaded",
              max_context_length: 32768,
              loaded_context_length: 8192,
              capabilities: ["tool_use"],
            },
            { id: "text-embedding-x", type: "embeddings", state: "not-loaded", max_context_length: 2048 },
          ],
        }),
      ),
    );
    const models = await listLMStudioModels({ baseUrl: `${ORIGIN}/v1` });
    const vlm = findModelInfo(models, "qwen2-vl-7b-instruct");
    expect(vlm).toMatchObject({ vision: true, toolUse: true, type: "llm" });
    expect(vlm && loadedContextLength(vlm, "qwen2-vl-7b-instruct")).toBe(8192);
    expect(findModelInfo(models, "text-embedding-x")).toMatchObject({
      type: "embedding",
      loadedInstances: [],
    });
  });

  it("finds a model by a loaded instance identifier (key:2)", () => {
    const models = [
      {
        key: "m",
        type: "llm" as const,
        vision: false,
        toolUse: false,
        loadedInstances: [{ id: "m:2", contextLength: 1024 }],
      },
    ];
    expect(findModelInfo(models, "m:2")?.key).toBe("m");
  });
});

describe("connectFailureCode", () => {
  it("finds the socket code however deeply the client wrapped it", () => {
    const socket = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const undici = new TypeError("fetch failed", { cause: new AggregateError([socket]) });
    const openai = Object.assign(new Error("Connection error."), { cause: undici });
    expect(connectFailureCode(openai)).toBe("ECONNREFUSED");
  });

  it("does not treat a reset mid-request as unreachable", () => {
    const reset = new TypeError("terminated", {
      cause: Object.assign(new Error("other side closed"), { code: "ECONNRESET" }),
    });
    expect(connectFailureCode(reset)).toBeUndefined();
  });
});
