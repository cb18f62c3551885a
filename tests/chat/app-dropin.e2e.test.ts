import { ContextOverflowError } from "@langchain/core/errors";
import { type AIMessageChunk, HumanMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod/v4";
import { createChatModel } from "../../src/config/index.js";
import { ChatLMStudio } from "../../src/index.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";

/**
 * "Done when": an app written for ChatOpenAI (a LangGraph ReAct agent with a tool, structured
 * output, streaming with usage) runs unchanged with `createChatModel()` and LLM_PROVIDER=lmstudio.
 * The app code below uses only the generic LangChain API; the provider comes from the environment.
 */

let sim: RunningSimulator;
let env: Record<string, string>;
beforeAll(async () => {
  sim = await startSimulator({ port: 0, loadTimeScale: 0, jitContextLength: 2048 });
  env = { LLM_PROVIDER: "lmstudio", LMSTUDIO_BASE_URL: sim.baseUrl, LMSTUDIO_MODEL: "qwen2.5-7b-instruct" };
});
afterAll(async () => {
  await sim?.close();
});

const getWeather = tool(async ({ city }) => `It is 21 degrees in ${city}.`, {
  name: "get_weather",
  description: "Get the current weather for a city",
  schema: z.object({ city: z.string().describe("the city") }),
});

const forecast = z.object({
  city: z.string(),
  temperature: z.number(),
  note: z.string().optional(),
});

describe("an unchanged LangGraph app on LM Studio via createChatModel()", () => {
  it("runs the ReAct agent loop: tool call, tool result, final answer", async () => {
    const llm = await createChatModel({}, env);
    expect(llm).toBeInstanceOf(ChatLMStudio);
    const agent = createReactAgent({ llm, tools: [getWeather] });
    const result = await agent.invoke({ messages: [new HumanMessage('What is the weather in "Lisbon"?')] });
    const types = result.messages.map((message) => message.getType());
    expect(types).toEqual(["human", "ai", "tool", "ai"]);
    expect(result.messages.at(-1)?.text).toBe("The tool returned: It is 21 degrees in Lisbon.");
  });

  it("streams the agent's messages, with token usage on the model's output", async () => {
    const llm = await createChatModel({}, env);
    const agent = createReactAgent({ llm, tools: [getWeather] });
    const chunks: AIMessageChunk[] = [];
    const stream = await agent.stream(
      { messages: [new HumanMessage('Weather in "Rome"?')] },
      { streamMode: "messages" },
    );
    for await (const [message] of stream) {
      if (message.getType() === "ai") chunks.push(message as AIMessageChunk);
    }
    expect(chunks.length).toBeGreaterThan(1);
    const withUsage = chunks.filter((chunk) => chunk.usage_metadata !== undefined);
    expect(withUsage.length).toBeGreaterThanOrEqual(2);
    for (const chunk of withUsage) {
      expect(chunk.usage_metadata?.input_tokens).toBeGreaterThan(0);
      expect(chunk.usage_metadata?.output_tokens).toBeGreaterThan(0);
    }
  });

  it("returns structured output from the agent (responseFormat)", async () => {
    const llm = await createChatModel({}, env);
    const agent = createReactAgent({ llm, tools: [getWeather], responseFormat: forecast });
    const result = await agent.invoke({ messages: [new HumanMessage('Forecast for "Oslo": 18 degrees')] });
    expect(result.structuredResponse.temperature).toBe(18);
    expect(typeof result.structuredResponse.city).toBe("string");
  });

  for (const method of ["jsonSchema", "functionCalling", "jsonMode"] as const) {
    it(`withStructuredOutput(${method}) works unchanged`, async () => {
      const llm = await createChatModel({}, env);
      const structured = llm.withStructuredOutput(forecast, { method });
      const result = await structured.invoke('Forecast for "Oslo": 18 degrees');
      expect(result.temperature).toBe(18);
    });
  }

  it("surfaces a prompt that overflows the loaded context as ContextOverflowError", async () => {
    const llm = await createChatModel({}, env);
    const agent = createReactAgent({ llm, tools: [getWeather] });
    const error = await agent
      .invoke({ messages: [new HumanMessage("tell me more ".repeat(3000))] })
      .catch((caught: unknown) => caught);
    expect(ContextOverflowError.isInstance(error)).toBe(true);
  });
});
