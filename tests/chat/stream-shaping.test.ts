import { AIMessageChunk } from "@langchain/core/messages";
import { ChatGenerationChunk } from "@langchain/core/outputs";
import { describe, expect, it } from "vitest";
import { LMStudioStreamShaper } from "../../src/chat/stream-shaping.js";
import { LMStudioEmptyResponseError } from "../../src/lmstudio/errors.js";

/** A chunk as ChatOpenAICompletions streams it: one per server delta. */
function parentChunk(
  content: string,
  extra: { reasoning?: string; finish?: string; model?: string; toolCall?: boolean } = {},
): ChatGenerationChunk {
  return new ChatGenerationChunk({
    message: new AIMessageChunk({
      content,
      id: "chatcmpl-1",
      additional_kwargs: extra.reasoning ? { reasoning_content: extra.reasoning } : {},
      tool_call_chunks: extra.toolCall
        ? [{ name: "get_weather", args: "{}", id: "1", index: 0, type: "tool_call_chunk" }]
        : [],
      response_metadata: { model_provider: "openai", usage: {} },
    }),
    text: content,
    generationInfo: {
      prompt: 0,
      completion: 0,
      ...(extra.finish
        ? { finish_reason: extra.finish, model_name: extra.model, system_fingerprint: "fp" }
        : {}),
    },
  });
}

function usageOnly(prompt: number, completion: number): ChatGenerationChunk {
  const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  return new ChatGenerationChunk({
    message: new AIMessageChunk({
      content: "",
      response_metadata: { usage },
      usage_metadata: { input_tokens: prompt, output_tokens: completion, total_tokens: prompt + completion },
    }),
    text: "",
  });
}

function run(shaper: LMStudioStreamShaper, chunks: ChatGenerationChunk[]): ChatGenerationChunk[] {
  const shaped = chunks.flatMap((chunk) => shaper.push(chunk) ?? []);
  return [...shaped, ...shaper.finish()];
}

describe("LMStudioStreamShaper", () => {
  it("drops empty deltas, splits <think> across chunks, names the model once and ends with usage", () => {
    const out = run(new LMStudioStreamShaper("requested", false), [
      parentChunk(""),
      parentChunk("<thi"),
      parentChunk("nk>plan</think>\n\nHi"),
      parentChunk("", { finish: "stop", model: "served" }),
      usageOnly(9, 2),
    ]);
    const whole = out.reduce((left, right) => left.concat(right));
    expect(whole.text).toBe("Hi");
    expect(whole.message.additional_kwargs.reasoning_content).toBe("plan");
    expect(whole.message.response_metadata).toMatchObject({
      model: "served",
      model_name: "served",
      model_provider: "lmstudio",
    });
    expect(whole.generationInfo).toEqual({ finish_reason: "stop", system_fingerprint: "fp" });
    expect((whole.message as AIMessageChunk).usage_metadata).toMatchObject({
      input_tokens: 9,
      output_tokens: 2,
    });
    expect(out.filter((chunk) => "model" in chunk.message.response_metadata)).toHaveLength(1);
  });

  it("keeps separate reasoning and tool-call deltas; the usage chunk names the requested model when no delta did", () => {
    const out = run(new LMStudioStreamShaper("requested", false), [
      parentChunk("", { reasoning: "think" }),
      parentChunk("", { toolCall: true }),
      usageOnly(3, 1),
    ]);
    const [reasoning, toolCall, usage] = out;
    expect(out).toHaveLength(3);
    expect(reasoning?.message.additional_kwargs.reasoning_content).toBe("think");
    expect(AIMessageChunk.isInstance(toolCall?.message) && toolCall.message.tool_call_chunks).toHaveLength(1);
    expect(usage?.message.response_metadata).toMatchObject({ model: "requested", model_name: "requested" });
  });

  it("a template that opens <think> makes the text reasoning until </think>", () => {
    const out = run(new LMStudioStreamShaper("m", true), [
      parentChunk("hidden</think>shown", { finish: "stop" }),
    ]);
    const whole = out.reduce((left, right) => left.concat(right));
    expect(whole.text).toBe("shown");
    expect(whole.message.additional_kwargs.reasoning_content).toBe("hidden");
  });

  it("a stream that carried nothing is an LMStudioEmptyResponseError naming the model", () => {
    const shaper = new LMStudioStreamShaper("qwen", false);
    expect(shaper.push(parentChunk(""))).toBeUndefined();
    expect(() => shaper.finish()).toThrow(LMStudioEmptyResponseError);
    expect(() => new LMStudioStreamShaper("qwen", false).finish()).toThrow(/"qwen"/);
  });
});
