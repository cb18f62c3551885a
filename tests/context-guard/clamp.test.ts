import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HumanMessage } from "@langchain/core/messages";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ContextGuard, ContextRegistry } from "../../src/context-guard/index.js";
import { freshEntry } from "../../src/context-guard/registry-schema.js";
import { FakeHost } from "./fake-host.js";

let dir: string;
let registry: ContextRegistry;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "guard-clamp-unit-"));
  registry = new ContextRegistry(join(dir, "r.json"));
  const identity = { modelKey: "m", format: "gguf", lmStudioVersion: "fake-1", loadSettings: "{}" };
  await registry.updateEntry(identity, () => ({
    ...freshEntry(identity, { declaredMax: 65536 }),
    status: "tested",
    testedMax: 16384,
    usablePromptTokens: 16000,
  }));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("ContextGuard with a fake host", () => {
  it("reloads at the tested size when the loaded instance has a larger context than was tested", async () => {
    const host = new FakeHost([{ key: "m", declared: 65536 }]);
    host.instances.set("m", { key: "m", contextLength: 65536, type: "llm" });
    const guard = new ContextGuard({ host, registry });
    const result = await guard.clampChat({
      model: "m",
      messages: [new HumanMessage("hi")],
      overflow: "error",
    });
    expect(result.model).not.toBe("m");
    expect(result.contextLength).toBe(16384);
    expect(host.loadCalls).toEqual([{ key: "m", contextLength: 16384 }]);
    // The user's instance is not the guard's to unload.
    await guard.close();
    expect(host.instances.has("m")).toBe(true);
  });

  it("reuses an instance already loaded at the tested size", async () => {
    const host = new FakeHost([{ key: "m", declared: 65536 }]);
    host.instances.set("mine", { key: "m", contextLength: 16384, type: "llm" });
    const guard = new ContextGuard({ host, registry });
    const result = await guard.clampChat({
      model: "m",
      messages: [new HumanMessage("hi")],
      overflow: "error",
    });
    expect(result.model).toBe("mine");
    expect(host.loadCalls).toEqual([]);
  });

  it("answers a repeated request from its caches without calling LM Studio", async () => {
    const host = new FakeHost([{ key: "m", declared: 65536 }]);
    const guard = new ContextGuard({ host, registry });
    const request = {
      model: "m",
      messages: [new HumanMessage("the same prompt")],
      overflow: "error" as const,
    };
    const first = await guard.clampChat(request);
    const counts = host.countCalls;
    const loads = host.loadCalls.length;
    const second = await guard.clampChat(request);
    expect(second).toEqual(first);
    expect(host.countCalls).toBe(counts);
    expect(host.loadCalls.length).toBe(loads);
  });

  it("loads once when many requests for a cold model arrive together", async () => {
    const host = new FakeHost([{ key: "m", declared: 65536 }]);
    const guard = new ContextGuard({ host, registry });
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        guard.clampChat({ model: "m", messages: [new HumanMessage(`q${i}`)], overflow: "error" }),
      ),
    );
    expect(host.loadCalls).toHaveLength(1);
  });

  it("rejects an unknown model with the available ones named", async () => {
    const guard = new ContextGuard({ host: new FakeHost([{ key: "m", declared: 65536 }]), registry });
    await expect(
      guard.clampChat({ model: "nope", messages: [new HumanMessage("x")], overflow: "error" }),
    ).rejects.toThrow(/no model "nope".*m/);
  });
});
