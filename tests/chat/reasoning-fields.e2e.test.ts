import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ChatLMStudio } from "../../src/index.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";

/**
 * Both of LM Studio's separate reasoning fields reach `additional_kwargs.reasoning_content`, invoked
 * and streamed: `reasoning` (gpt-oss, 0.3.23+) and `reasoning_content` (0.3.9 setting). Issue 17 item 7.
 */

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({
    loadTimeScale: 0,
    separateReasoningContent: true,
    models: [
      { key: "gpt-oss", type: "llm", maxContextLength: 32768, reasoning: true, reasoningField: "reasoning" },
      { key: "r1", type: "llm", maxContextLength: 32768, reasoning: true },
    ],
  });
});
afterAll(async () => {
  await sim.close();
});

describe.each(["gpt-oss", "r1"])("%s", (model) => {
  const expectedReasoning = /^The user wrote \d+ tokens\. I will answer directly\.$/;

  test("invoke: reasoning separated from the content", async () => {
    const reply = await new ChatLMStudio({ model, baseUrl: sim.baseUrl }).invoke("hello");
    expect(reply.content).toBe("You said: hello");
    expect(reply.additional_kwargs.reasoning_content).toMatch(expectedReasoning);
  });

  test("stream: the reasoning deltas add up to the same text", async () => {
    const stream = await new ChatLMStudio({ model, baseUrl: sim.baseUrl }).stream("hello");
    let content = "";
    let reasoning = "";
    for await (const chunk of stream) {
      content += typeof chunk.content === "string" ? chunk.content : "";
      const part = chunk.additional_kwargs.reasoning_content;
      if (typeof part === "string") reasoning += part;
    }
    expect(content).toBe("You said: hello");
    expect(reasoning).toMatch(expectedReasoning);
  });
});
