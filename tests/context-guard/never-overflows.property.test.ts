/**
 * The guard's promise, checked as a property end to end: whatever conversation and answer budget an
 * app throws at a guarded ChatLMStudio, no request that reaches LM Studio exceeds the context the
 * model was tested at, and none is refused by the server for overflow.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AIMessage, type BaseMessage, HumanMessage, SystemMessage } from "@langchain/core/messages";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ContextGuard, createContextGuard } from "../../src/context-guard/index.js";
import { ChatLMStudio, LMStudioContextOverflowError, type OverflowPolicy } from "../../src/index.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";

const MODEL = "claims-16k";
// Declares 16384 but recalls only up to 3000 prompt tokens: the guard must find and respect that.
const EFFECTIVE_CONTEXT = 3000;

let sim: RunningSimulator;
let dir: string;
let guard: ContextGuard;
let testedMax: number;
let usablePromptTokens: number;

beforeAll(async () => {
  sim = await startSimulator({
    loadTimeScale: 0,
    models: [{ key: MODEL, type: "llm", maxContextLength: 16384, effectiveContext: EFFECTIVE_CONTEXT }],
  });
  dir = await mkdtemp(join(tmpdir(), "guard-property-"));
  guard = createContextGuard({ baseUrl: sim.baseUrl, registryPath: join(dir, "registry.json") });
  const result = await guard.test(MODEL);
  const limits = await guard.limitsFor(MODEL);
  expect(limits.source).toBe("tested");
  testedMax = limits.contextLength;
  usablePromptTokens = limits.promptLimit;
  expect(result.testedMax).toBe(testedMax);
}, 120_000);

afterAll(async () => {
  await guard?.close();
  await sim?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A conversation: optional system prompt, alternating turns of random length, ending with the user. */
const conversation = fc
  .record({
    system: fc.option(fc.integer({ min: 1, max: 200 }), { nil: undefined }),
    turns: fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: 12 }),
  })
  .map(({ system, turns }) => {
    const words = (count: number, tag: string) =>
      Array.from({ length: count }, (_, i) => `${tag}${i % 53}`).join(" ");
    const messages: BaseMessage[] = system ? [new SystemMessage(words(system, "rule"))] : [];
    // Odd number of turns from the end, so the last one is the user's.
    const ordered = turns.length % 2 === 0 ? turns.slice(1) : turns;
    ordered.forEach((length, index) => {
      const text = words(length, `t${index}w`);
      messages.push(index % 2 === 0 ? new HumanMessage(text) : new AIMessage(text));
    });
    return messages;
  });

const policies: OverflowPolicy[] = ["error", "trim", "truncate-middle"];

describe("a guarded ChatLMStudio never overflows the tested context", () => {
  it("holds for random conversations, answer budgets and overflow policies", async () => {
    let sent = 0;
    let refusedByGuard = 0;
    await fc.assert(
      fc.asyncProperty(
        conversation,
        fc.option(fc.integer({ min: 1, max: 4000 }), { nil: undefined }),
        fc.constantFrom(...policies),
        async (messages, maxTokens, overflow) => {
          const model = new ChatLMStudio(MODEL, {
            baseUrl: sim.baseUrl,
            contextGuard: guard,
            overflow,
            maxRetries: 0,
            ...(maxTokens !== undefined ? { maxTokens } : {}),
          });
          const before = sim.requests.length;
          const outcome = await model.invoke(messages).then(
            (reply) => ({ reply }),
            (error: unknown) => ({ error }),
          );
          const requests = sim.requests.slice(before).filter(({ path }) => path === "/v1/chat/completions");

          if ("error" in outcome) {
            // Only the guard may refuse, before anything is sent, and only under the "error" policy
            // (or when even the last turn cannot fit with trimming).
            expect(outcome.error).toBeInstanceOf(LMStudioContextOverflowError);
            expect((outcome.error as LMStudioContextOverflowError).dialect).toBe("context-guard");
            expect(requests).toHaveLength(0);
            refusedByGuard++;
            return;
          }
          expect(requests).toHaveLength(1);
          const body = requests[0]!.body as { max_tokens: number };
          const promptTokens = outcome.reply.usage_metadata?.input_tokens ?? Number.POSITIVE_INFINITY;
          // The server's own count of what it received.
          expect(promptTokens).toBeLessThanOrEqual(usablePromptTokens);
          expect(promptTokens + body.max_tokens).toBeLessThanOrEqual(testedMax);
          if (maxTokens !== undefined) expect(body.max_tokens).toBeLessThanOrEqual(maxTokens);
          sent++;
        },
      ),
      { numRuns: 60, seed: 20261123 },
    );
    // Both outcomes occurred, so the property was exercised on each side of the limit.
    expect(sent).toBeGreaterThan(0);
    expect(refusedByGuard).toBeGreaterThan(0);
    console.log(
      `tested ${testedMax} (usable prompt ${usablePromptTokens}) of declared 16384: ` +
        `${sent} requests sent within it, ${refusedByGuard} refused by the guard before sending`,
    );
  }, 180_000);
});
