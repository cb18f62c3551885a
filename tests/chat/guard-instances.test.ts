import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { firstLoadedLLM } from "../../src/chat/profile.js";
import { ContextRegistry, createContextGuard } from "../../src/context-guard/index.js";
import { freshEntry } from "../../src/context-guard/registry-schema.js";
import { ChatLMStudio, LMStudioModelNotFoundError } from "../../src/index.js";
import { mapLMStudioError } from "../../src/lmstudio/error-mapping.js";
import { isGuardInstanceId } from "../../src/lmstudio/guard-instances.js";
import type { LMStudioModelInfo } from "../../src/lmstudio/model-info.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";

const llm = (key: string, ids: string[]): LMStudioModelInfo =>
  ({
    key,
    type: "llm",
    vision: false,
    toolUse: false,
    maxContextLength: 32768,
    loadedInstances: ids.map((id) => ({ id, contextLength: 8192 })),
  }) as unknown as LMStudioModelInfo;

describe("the guard's own instances are never offered or picked", () => {
  it("firstLoadedLLM skips …@guard-N instances", () => {
    expect(firstLoadedLLM([llm("a", ["a@guard-8192"]), llm("b", ["b"])])).toBe("b");
    // Loaded only by the guard: the model key, never the guard's instance.
    expect(firstLoadedLLM([llm("a", ["a@guard-8192"])])).toBe("a");
    expect(firstLoadedLLM([llm("a", [])])).toBeUndefined();
    expect(isGuardInstanceId("qwen@guard-32768")).toBe(true);
    expect(isGuardInstanceId("qwen:2")).toBe(false);
  });

  it("a 'model not found' error does not list guard instances as available", () => {
    const error = mapLMStudioError(400, {
      error: {
        message:
          'Invalid model identifier "nope". Please specify a valid downloaded model (e.g., qwen, qwen@guard-8192, llama).',
      },
    });
    expect(error).toBeInstanceOf(LMStudioModelNotFoundError);
    expect((error as LMStudioModelNotFoundError).availableModels).toEqual(["qwen", "llama"]);
  });
});

describe("profile.maxInputTokens with the guard", () => {
  let sim: RunningSimulator | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await sim?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("is the tested usable prompt size from the registry, not the loaded context", async () => {
    sim = await startSimulator({
      loadTimeScale: 0,
      models: [{ key: "m", type: "llm", maxContextLength: 32768 }],
      preload: [
        { key: "m", contextLength: 4096 },
        { key: "m", identifier: "m@guard-16384", contextLength: 16384 },
      ],
    });
    dir = await mkdtemp(join(tmpdir(), "profile-"));
    const registryPath = join(dir, "registry.json");
    const identity = { modelKey: "m", format: "gguf", lmStudioVersion: "0.4.21", loadSettings: "{}" };
    await new ContextRegistry(registryPath).updateEntry(identity, () => ({
      ...freshEntry(identity, { declaredMax: 32768 }),
      status: "tested",
      testedMax: 16384,
      usablePromptTokens: 15800,
    }));
    const guard = createContextGuard({ baseUrl: sim.baseUrl, registryPath });
    try {
      const plain = await ChatLMStudio.fromServer({ baseUrl: sim.baseUrl });
      // fromServer picks the user's instance, never the guard's.
      expect(plain.model).toBe("m");
      expect(plain.profile.maxInputTokens).toBe(4096);
      const guarded = await ChatLMStudio.fromServer({ baseUrl: sim.baseUrl, contextGuard: guard });
      expect(guarded.profile.maxInputTokens).toBe(15800);
    } finally {
      await guard.close();
    }
  });
});
