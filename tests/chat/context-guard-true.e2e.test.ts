import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContextOverflowError } from "@langchain/core/errors";
import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ChatLMStudio } from "../../src/index.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";

/** `contextGuard: true` builds the real guard for the same server (here: the simulator). */

let sim: RunningSimulator;
let registryDir: string;
beforeAll(async () => {
  registryDir = mkdtempSync(join(tmpdir(), "chat-guard-"));
  // Keep the guard's registry out of the user's LM Studio home.
  vi.stubEnv("LMSTUDIO_GUARD_REGISTRY", join(registryDir, "registry.json"));
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
