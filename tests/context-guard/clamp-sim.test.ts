import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AIMessage, type BaseMessage, HumanMessage, SystemMessage } from "@langchain/core/messages";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  ContextGuardUntestedModelError,
  ContextRegistry,
  createContextGuard,
} from "../../src/context-guard/index.js";
import { entryKey, freshEntry } from "../../src/context-guard/registry-schema.js";
import { LMStudioContextOverflowError } from "../../src/lmstudio/errors.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";

const words = (n: number, tag = "w") => Array.from({ length: n }, (_, i) => `${tag}${i % 97}x`).join(" ");

let sim: RunningSimulator;
let dir: string;
let registryPath: string;

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    loadTimeScale: 0,
    models: [
      { key: "tested-model", type: "llm", maxContextLength: 131072 },
      { key: "untested-model", type: "llm", maxContextLength: 16384 },
      { key: "autofit-model", type: "llm", maxContextLength: 32768, autoFitTo: 6144 },
      { key: "embed-model", type: "embedding", maxContextLength: 2048 },
    ],
    preload: [{ key: "tested-model", identifier: "tested-model", contextLength: 4096 }],
  });
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "guard-clamp-"));
  registryPath = join(dir, "registry.json");
  // "tested-model" was tested: 8192 context, 7900-token prompts verified.
  const registry = new ContextRegistry(registryPath);
  const identity = {
    modelKey: "tested-model",
    format: "gguf",
    lmStudioVersion: "0.4.21",
    loadSettings: "{}",
  };
  await registry.updateEntry(identity, () => ({
    ...freshEntry(identity, { declaredMax: 131072 }),
    status: "tested",
    testedMax: 8192,
    usablePromptTokens: 7900,
  }));
  expect(entryKey(identity)).toContain("tested-model");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function send(model: string, messages: BaseMessage[], maxTokens: number) {
  const response = await fetch(`${sim.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model,
      max_tokens: maxTokens,
      messages: messages.map((m) => ({
        role: m.getType() === "human" ? "user" : m.getType() === "ai" ? "assistant" : "system",
        content: m.content,
      })),
    }),
  });
  return { status: response.status, body: (await response.json()) as { usage?: { prompt_tokens: number } } };
}

describe("ContextGuard.clampChat against the simulator", () => {
  it("loads its own instance at the tested context instead of using a 4096 JIT load, and caps max_tokens", async () => {
    const guard = createContextGuard({ baseUrl: sim.baseUrl, registryPath });
    const messages = [new SystemMessage("Be brief."), new HumanMessage("Hello there, how are you?")];
    const result = await guard.clampChat({
      model: "tested-model",
      messages,
      maxTokens: 100_000,
      overflow: "error",
    });
    expect(result.contextLength).toBe(8192);
    expect(result.model).not.toBe("tested-model");
    expect(sim.loaded().find((i) => i.identifier === result.model)?.contextLength).toBe(8192);
    expect(result.maxTokens).toBe(8192 - result.promptTokens);
    // The count is exact: the server counts the same prompt identically.
    const sent = await send(result.model, result.messages, result.maxTokens);
    expect(sent.status).toBe(200);
    expect(sent.body.usage?.prompt_tokens).toBe(result.promptTokens);
    await guard.close();
    expect(sim.loaded().some((i) => i.identifier === result.model)).toBe(false);
  });

  it("loads the model again when LM Studio dropped the guard's instance (unloaded by hand, restarted) before the next check", async () => {
    const guard = createContextGuard({ baseUrl: sim.baseUrl, registryPath });
    const clamp = (text: string) =>
      guard.clampChat({ model: "tested-model", messages: [new HumanMessage(text)], overflow: "error" });
    const first = await clamp("Hello there");
    const unloaded = await fetch(`${sim.baseUrl.replace(/\/v1$/, "")}/api/v1/models/unload`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ instance_id: first.model }),
    });
    expect(unloaded.status).toBe(200);
    expect(sim.loaded().some((i) => i.identifier === first.model)).toBe(false);

    const second = await clamp("Hello again, a prompt the guard has not counted yet");
    expect(second.contextLength).toBe(8192);
    expect(sim.loaded().find((i) => i.identifier === second.model)?.contextLength).toBe(8192);
    await guard.close();
  });

  it('"error" refuses a prompt above the verified limit before any request, with the numbers', async () => {
    const guard = createContextGuard({ baseUrl: sim.baseUrl, registryPath });
    const before = sim.requests.filter((r) => r.path.includes("chat/completions")).length;
    const error = await guard
      .clampChat({ model: "tested-model", messages: [new HumanMessage(words(9000))], overflow: "error" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioContextOverflowError);
    expect(error).toMatchObject({ dialect: "context-guard", contextLength: 8192 });
    expect((error as LMStudioContextOverflowError).promptTokens).toBeGreaterThan(7900);
    expect(sim.requests.filter((r) => r.path.includes("chat/completions")).length).toBe(before);
    await guard.close();
  });

  it('"trim" drops the oldest turns, keeps the system prompt, and the result is accepted by the server', async () => {
    const guard = createContextGuard({ baseUrl: sim.baseUrl, registryPath });
    const history: BaseMessage[] = [new SystemMessage("You are terse.")];
    for (let i = 0; i < 12; i += 1) {
      history.push(new HumanMessage(`turn ${i} ${words(900, `t${i}`)}`), new AIMessage(`ok ${i}`));
    }
    history.push(new HumanMessage("And the final question?"));
    const result = await guard.clampChat({
      model: "tested-model",
      messages: history,
      maxTokens: 200,
      overflow: "trim",
    });
    expect(result.promptTokens).toBeLessThanOrEqual(7900);
    expect(result.messages[0]?.getType()).toBe("system");
    expect(result.messages.at(-1)?.content).toBe("And the final question?");
    expect(result.messages.length).toBeLessThan(history.length);
    expect(result.messages.some((m) => String(m.content).startsWith("turn 0 "))).toBe(false);
    expect(result.maxTokens).toBe(200);
    const sent = await send(result.model, result.messages, result.maxTokens);
    expect(sent.status).toBe(200);
    await guard.close();
  });

  it('"truncate-middle" cuts one long input in the middle so head and tail survive', async () => {
    const guard = createContextGuard({ baseUrl: sim.baseUrl, registryPath });
    const text = `HEAD-MARKER ${words(12_000)} TAIL-MARKER`;
    const result = await guard.clampChat({
      model: "tested-model",
      messages: [new HumanMessage(text)],
      overflow: "truncate-middle",
    });
    const content = String(result.messages[0]?.content);
    expect(content.startsWith("HEAD-MARKER")).toBe(true);
    expect(content.endsWith("TAIL-MARKER")).toBe(true);
    expect(content).toContain("[…]");
    expect(result.promptTokens).toBeLessThanOrEqual(7900);
    expect(result.promptTokens).toBeGreaterThan(7000);
    const sent = await send(result.model, result.messages, result.maxTokens);
    expect(sent.status).toBe(200);
    await guard.close();
  });

  it("refuses an untested model by default, naming the command that measures it", async () => {
    const guard = createContextGuard({ baseUrl: sim.baseUrl, registryPath });
    const error = await guard
      .clampChat({ model: "untested-model", messages: [new HumanMessage("hi")], overflow: "error" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContextGuardUntestedModelError);
    expect(error).toMatchObject({ model: "untested-model", declaredMax: 16384, lmStudioVersion: "0.4.21" });
    expect((error as Error).message).toContain("npx langchain-lmstudio test untested-model");
    // limitsFor stays a query: it reports the declared limits without refusing.
    expect((await guard.limitsFor("untested-model")).source).toBe("declared");
    await guard.close();
  });

  it('"declared" warns through console.warn when no onWarning is given (never silently)', async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const guard = createContextGuard({ baseUrl: sim.baseUrl, registryPath, untested: "declared" });
      const result = await guard.clampChat({
        model: "untested-model",
        messages: [new HumanMessage("hi")],
        overflow: "error",
      });
      expect(result.contextLength).toBe(16384);
      expect(warn.mock.calls.map((c) => String(c[0])).join("\n")).toMatch(
        /"untested-model" has no tested context/,
      );
      await guard.close();
    } finally {
      warn.mockRestore();
    }
  });

  it('"measure" reports its progress through onWarning while it measures on first use', async () => {
    const warnings: string[] = [];
    const guard = createContextGuard({
      baseUrl: sim.baseUrl,
      registryPath,
      untested: "measure",
      onWarning: (m) => warnings.push(m),
    });
    const result = await guard.clampChat({
      model: "autofit-model",
      messages: [new HumanMessage("hi")],
      overflow: "error",
    });
    expect(result.contextLength).toBe(6144);
    expect(warnings[0]).toMatch(/"autofit-model" has no tested context .*measuring it now/);
    expect(
      warnings.filter((w) => /probe \d+\/\d+ at \d+ tokens: (passed|failed)/.test(w)).length,
    ).toBeGreaterThan(0);
    await guard.close();
  });

  it('uses the declared maximum for an untested model under "declared", with a warning', async () => {
    const warnings: string[] = [];
    const guard = createContextGuard({
      baseUrl: sim.baseUrl,
      registryPath,
      untested: "declared",
      onWarning: (m) => warnings.push(m),
    });
    const result = await guard.clampChat({
      model: "untested-model",
      messages: [new HumanMessage("hi")],
      overflow: "error",
    });
    expect(result.contextLength).toBe(16384);
    expect(warnings.join("\n")).toMatch(/no tested context/);
    await guard.close();
  });

  it("tests on first use when asked, then clamps to the tested size", async () => {
    const guard = createContextGuard({ baseUrl: sim.baseUrl, registryPath, testOnFirstUse: true });
    const result = await guard.clampChat({
      model: "autofit-model",
      messages: [new HumanMessage("hi")],
      overflow: "error",
    });
    expect(result.contextLength).toBe(6144);
    const entry = (await guard.registry.entries()).find((e) => e.modelKey === "autofit-model");
    expect(entry?.testedMax).toBe(6144);
    expect(entry?.probes.some((p) => p.failureKind === "not-honoured" && p.loadedContext === 6144)).toBe(
      true,
    );
    await guard.close();
  });

  it("clampEmbedding loads the embedding model at its context and counts each text", async () => {
    const guard = createContextGuard({ baseUrl: sim.baseUrl, registryPath });
    const result = await guard.clampEmbedding("embed-model", ["short text", words(300)]);
    expect(result.contextLength).toBe(2048);
    expect(result.tokenCounts[0]).toBeGreaterThan(0);
    expect(result.tokenCounts[1]).toBeGreaterThan(result.tokenCounts[0] ?? 0);
    await guard.close();
  });
});
