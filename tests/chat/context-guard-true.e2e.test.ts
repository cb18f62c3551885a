import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContextOverflowError } from "@langchain/core/errors";
import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ContextRegistry } from "../../src/context-guard/index.js";
import { freshEntry } from "../../src/context-guard/registry-schema.js";
import { ChatLMStudio, LMStudioUnreachableError } from "../../src/index.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";

/** `contextGuard: true` builds the real guard for the same server (here: the simulator). */

let sim: RunningSimulator;
let registryDir: string;
beforeAll(async () => {
  registryDir = mkdtempSync(join(tmpdir(), "chat-guard-"));
  // Keep the guard's registry out of the user's LM Studio home.
  vi.stubEnv("LMSTUDIO_GUARD_REGISTRY", join(registryDir, "registry.json"));
  // The guard refuses untested models by default: "tiny-chat" was tested at its full 2048.
  const identity = { modelKey: "tiny-chat", format: "gguf", lmStudioVersion: "0.4.21", loadSettings: "{}" };
  await new ContextRegistry(join(registryDir, "registry.json")).updateEntry(identity, () => ({
    ...freshEntry(identity, { declaredMax: 2048 }),
    status: "tested",
    testedMax: 2048,
    usablePromptTokens: 2000,
  }));
  // A small model, so the history below overflows whatever context the guard loads it with.
  sim = await startSimulator({
    port: 0,
    loadTimeScale: 0,
    models: [{ key: "tiny-chat", type: "llm", maxContextLength: 2048 }],
  });
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await sim?.close();
  rmSync(registryDir, { recursive: true, force: true });
});

const oversized = [
  new SystemMessage("You are terse."),
  ...Array.from(
    { length: 40 },
    (_, turn) => new HumanMessage(`older turn ${turn}: ${"filler words here ".repeat(40)}`),
  ),
  new HumanMessage("What is the latest question?"),
];

describe("contextGuard: true", () => {
  it('"trim" keeps an oversized history inside the loaded context and answers', async () => {
    const chat = new ChatLMStudio({
      baseUrl: sim.baseUrl,
      model: "tiny-chat",
      contextGuard: true,
      overflow: "trim",
      maxRetries: 0,
    });
    const answer = await chat.invoke(oversized);
    expect(answer.text).toBe("You said: What is the latest question?");
  });

  it('"error" refuses before sending, with ContextOverflowError', async () => {
    const chat = new ChatLMStudio({
      baseUrl: sim.baseUrl,
      model: "tiny-chat",
      contextGuard: true,
      maxRetries: 0,
    });
    const before = sim.requests.filter((request) => request.path.endsWith("/chat/completions")).length;
    const error = await chat.invoke(oversized).catch((caught: unknown) => caught);
    expect(ContextOverflowError.isInstance(error)).toBe(true);
    expect(sim.requests.filter((request) => request.path.endsWith("/chat/completions")).length).toBe(before);
  });
});

describe("contextGuard when LM Studio has unloaded the guard's instance", () => {
  it("loads the model again at its tested context and answers, in invoke and stream", async () => {
    const chat = new ChatLMStudio({
      baseUrl: sim.baseUrl,
      model: "tiny-chat",
      contextGuard: true,
      maxRetries: 0,
    });
    expect((await chat.invoke("first")).text).toBe("You said: first");
    const instance = sim.loaded().find(({ modelKey }) => modelKey === "tiny-chat");
    expect(instance).toBeDefined();

    for (const call of ["invoke", "stream"] as const) {
      // The instance vanishes just before the next chat request arrives (TTL or auto-evict).
      sim.injectFault({ kind: "evict", identifier: instance!.identifier, path: "/v1/chat/completions" });
      const before = sim.requests.filter(({ path }) => path.endsWith("/chat/completions")).length;
      let text = "";
      if (call === "invoke") text = (await chat.invoke("after eviction")).text;
      else for await (const chunk of await chat.stream("after eviction")) text += chunk.text;
      expect(text).toBe("You said: after eviction");
      // One refused request naming the vanished instance, then one that succeeds after the reload.
      const sent = sim.requests.filter(({ path }) => path.endsWith("/chat/completions")).slice(before);
      expect(sent.map(({ body }) => (body as { model: string }).model)).toEqual([
        instance!.identifier,
        instance!.identifier,
      ]);
      const reloaded = sim.loaded().find(({ modelKey }) => modelKey === "tiny-chat");
      expect(reloaded?.contextLength).toBe(instance!.contextLength);
      expect(reloaded?.jit).toBe(false);
    }
  });
});

describe("contextGuard with no server listening", () => {
  it("fails with LMStudioUnreachableError naming the URL, as without the guard", async () => {
    const baseUrl = "http://127.0.0.1:9/v1";
    const chat = new ChatLMStudio({ baseUrl, model: "tiny-chat", contextGuard: true, maxRetries: 0 });
    const error = await chat.invoke("hello").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LMStudioUnreachableError);
    expect((error as LMStudioUnreachableError).baseUrl).toBe(baseUrl);
    expect((error as Error).message).toContain("lms server start");
  });
});
