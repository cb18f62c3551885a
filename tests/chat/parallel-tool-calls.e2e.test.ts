import { AIMessage, type AIMessageChunk, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { concat } from "@langchain/core/utils/stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod/v4";
import { ChatLMStudio } from "../../src/index.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";

/**
 * The three checks of LangChain's standard `testParallelToolCalling`, against the simulator: a prompt
 * that asks for two tools gets both calls (invoke and stream), and a history holding both calls and
 * their results gets an answer, not another call.
 */

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({ port: 0, loadTimeScale: 0 });
});
afterAll(async () => {
  await sim?.close();
});

const weatherTool = tool(() => "no-op", {
  name: "get_current_weather",
  description: "Get the current weather in a given location",
  schema: z.object({ location: z.string().describe("The city name, e.g. San Francisco") }),
});
const currentTimeTool = tool(() => "no-op", {
  name: "get_current_time",
  description: "Get the current time in a given location",
  schema: z.object({ location: z.string().describe("The city name, e.g. San Francisco") }),
});

const callParallelToolsPrompt =
  "What's the weather and current time in San Francisco?\n" +
  "Ensure you ALWAYS call the 'get_current_weather' tool for weather and 'get_current_time' tool for time.";

function modelWithTools() {
  return new ChatLMStudio({ baseUrl: sim.baseUrl, model: "qwen2.5-7b-instruct", maxRetries: 0 }).bindTools([
    weatherTool,
    currentTimeTool,
  ]);
}

function expectBothTools(message: AIMessage | AIMessageChunk) {
  const calls = message.tool_calls ?? [];
  expect(calls.map((call) => call.name)).toEqual(["get_current_weather", "get_current_time"]);
  expect(new Set(calls.map((call) => call.id)).size).toBe(2);
  for (const call of calls) expect(call.args).toEqual({ location: expect.any(String) });
}

describe("parallel tool calling (LangChain's testParallelToolCalling)", () => {
  it("invoke: one call per tool the prompt asks for", async () => {
    expectBothTools(await modelWithTools().invoke(callParallelToolsPrompt));
  });

  it("stream: the calls assemble from their own deltas", async () => {
    let whole: AIMessageChunk | undefined;
    for await (const chunk of await modelWithTools().stream(callParallelToolsPrompt)) {
      whole = whole ? concat(whole, chunk) : chunk;
    }
    if (!whole) throw new Error("empty stream");
    expectBothTools(whole);
  });

  it("a history with both calls answered gets a text answer and no further call", async () => {
    const calls = await modelWithTools().invoke(callParallelToolsPrompt);
    const [weather, time] = calls.tool_calls ?? [];
    if (!weather?.id || !time?.id) throw new Error("expected two tool calls with ids");
    const result = await modelWithTools().invoke([
      new HumanMessage(callParallelToolsPrompt),
      new AIMessage({ content: "", tool_calls: calls.tool_calls }),
      new ToolMessage({
        name: weather.name,
        tool_call_id: weather.id,
        content: "It is currently 24 degrees with hail in San Francisco.",
      }),
      new ToolMessage({
        name: time.name,
        tool_call_id: time.id,
        content: "The current time in San Francisco is 12:02 PM.",
      }),
    ]);
    expect(result.tool_calls ?? []).toHaveLength(0);
    expect(result.text).toBe("The tool returned: The current time in San Francisco is 12:02 PM.");
  });

  it("a prompt naming one tool still gets exactly one call", async () => {
    const message = await modelWithTools().invoke("Use get_current_time for Oslo.");
    expect(message.tool_calls?.map((call) => call.name)).toEqual(["get_current_time"]);
  });
});
