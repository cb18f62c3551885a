import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SdkModelHost } from "../../src/context-guard/model-host.js";
import { ChatLMStudio, LMStudioModelNotFoundError } from "../../src/index.js";
import { findModelInfo, listLMStudioModels, loadedContextLength } from "../../src/lmstudio/index.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { assertVisionModel } from "../../src/vision/vision-capability.js";

/**
 * Every library path that lists models, against a server with JIT loading off: LM Studio lists
 * loaded and downloaded models on /api/v1 and /api/v0 alike (issue 17 item 4).
 */

const QWEN = "qwen2.5-7b-instruct";
const VL = "qwen2-vl-2b-instruct";
const EMBED = "text-embedding-nomic-embed-text-v1.5";

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({
    loadTimeScale: 0,
    jit: false,
    preload: [{ key: QWEN, identifier: "loaded-qwen", contextLength: 8192 }],
  });
});
afterAll(async () => {
  await sim.close();
});

/** A server without /api/v1 (LM Studio 0.3.x): the library falls back to /api/v0. */
const v0Only: typeof fetch = (input, init) =>
  String(input).endsWith("/api/v1/models")
    ? Promise.resolve(new Response("Cannot GET /api/v1/models", { status: 404 }))
    : fetch(input, init);

describe.each([
  ["/api/v1", undefined],
  ["/api/v0 fallback", v0Only],
] as const)("listLMStudioModels via %s, JIT off", (_name, fetchImpl) => {
  const request = () => ({ baseUrl: sim.baseUrl, ...(fetchImpl ? { fetch: fetchImpl } : {}) });

  test("lists every downloaded model; only the loaded one has an instance", async () => {
    const models = await listLMStudioModels(request());
    expect(models.map((m) => m.key)).toEqual([QWEN, VL, EMBED]);
    expect(models.map((m) => m.loadedInstances.length)).toEqual([1, 0, 0]);
    const qwen = findModelInfo(models, QWEN);
    expect(qwen && loadedContextLength(qwen, QWEN)).toBe(8192);
  });

  test("the vision check accepts a downloaded, not loaded vision model and names it for others", async () => {
    await expect(assertVisionModel(VL, request())).resolves.toBeUndefined();
    const missing = await assertVisionModel("nope", request()).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(LMStudioModelNotFoundError);
    expect((missing as LMStudioModelNotFoundError).availableModels).toEqual([VL]);
  });
});

describe("fromServer and the guard's listing, JIT off", () => {
  test("ChatLMStudio.fromServer picks the loaded LLM and its loaded context", async () => {
    const chat = await ChatLMStudio.fromServer({ baseUrl: sim.baseUrl });
    expect(chat.model).toBe("loaded-qwen");
    expect(chat.profile.maxInputTokens).toBe(8192);
    expect((await chat.invoke("hi")).content).toBe("You said: hi");
  });

  test("fromServer with a downloaded, not loaded model: the declared maximum, vision from the listing", async () => {
    const chat = await ChatLMStudio.fromServer({ baseUrl: sim.baseUrl, model: VL });
    expect(chat.profile).toMatchObject({ maxInputTokens: 32768, imageInputs: true });
  });

  test("the guard's host (used by `scan`) lists every downloaded model over the SDK", async () => {
    const host = new SdkModelHost({ baseUrl: sim.baseUrl });
    try {
      expect((await host.listDownloaded()).map((m) => m.key)).toEqual([QWEN, VL, EMBED]);
      expect(await host.listLoaded()).toEqual([
        { identifier: "loaded-qwen", modelKey: QWEN, type: "llm", contextLength: 8192 },
      ]);
    } finally {
      await host.close();
    }
  });
});
