import { ContextOverflowError, getRetryable } from "@langchain/core/errors";
import { afterEach, describe, expect, test } from "vitest";
import {
  ChatLMStudio,
  LMStudioContextOverflowError,
  LMStudioKvCacheExhaustedError,
  LMStudioRequestError,
} from "../../src/index.js";
import { mapLMStudioError } from "../../src/lmstudio/error-mapping.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";

const EXCEEDED = "Context size has been exceeded.";
const LLAMA_OVERFLOW = {
  error: {
    code: 400,
    message: "request (24018 tokens) exceeds the available context size (512 tokens), try increasing it",
    type: "exceed_context_size_error",
    n_prompt_tokens: 24018,
    n_ctx: 512,
  },
};

describe("mapping the shared-cache exhaustion and llama.cpp's overflow", () => {
  test("HTTP 500 server_error 'Context size has been exceeded.' is the retryable exhaustion error, not an overflow", () => {
    const error = mapLMStudioError(
      500,
      { error: { code: 500, message: EXCEEDED, type: "server_error" } },
      {
        model: "m",
      },
    );
    expect(error).toBeInstanceOf(LMStudioKvCacheExhaustedError);
    expect(ContextOverflowError.isInstance(error)).toBe(false);
    expect((error as LMStudioKvCacheExhaustedError).model).toBe("m");
    expect(error.message).toContain("(LM Studio said: Context size has been exceeded.)");
    expect(getRetryable(error)).toBe(true);
  });

  test("an SSE error frame (no status) of type server_error is the exhaustion error too", () => {
    const error = mapLMStudioError(undefined, { code: 500, message: EXCEEDED, type: "server_error" });
    expect(error).toBeInstanceOf(LMStudioKvCacheExhaustedError);
  });

  test("MLX's 400 with the same words stays a prompt overflow", () => {
    const error = mapLMStudioError(400, { error: EXCEEDED });
    expect(error).toBeInstanceOf(LMStudioContextOverflowError);
    expect((error as LMStudioContextOverflowError).dialect).toBe("mlx");
  });

  test("llama.cpp's exceed_context_size_error becomes the overflow error with its numbers", () => {
    const error = mapLMStudioError(400, LLAMA_OVERFLOW);
    expect(error).toBeInstanceOf(LMStudioContextOverflowError);
    expect(error).toMatchObject({ promptTokens: 24018, contextLength: 512, dialect: "llama-server" });
    expect(error.message).toContain("The prompt has 24018 tokens; the model is loaded with 512.");
  });

  test("by wording alone (no type field) it is recognised too; by type alone the fields give the numbers", () => {
    const worded = mapLMStudioError(400, { error: LLAMA_OVERFLOW.error.message });
    expect(worded).toMatchObject({ promptTokens: 24018, contextLength: 512 });
    const typed = mapLMStudioError(400, {
      error: { message: "too long", type: "exceed_context_size_error", n_prompt_tokens: 900, n_ctx: 800 },
    });
    expect(typed).toBeInstanceOf(LMStudioContextOverflowError);
    expect(typed).toMatchObject({ promptTokens: 900, contextLength: 800 });
  });

  test("an unrelated 500 is still a plain request error", () => {
    expect(mapLMStudioError(500, { error: "Something else" })).toBeInstanceOf(LMStudioRequestError);
  });
});

describe("ChatLMStudio reports the exhaustion to every affected caller", () => {
  let sim: RunningSimulator | undefined;
  afterEach(async () => {
    await sim?.close();
  });

  test("unguarded concurrent requests fail with LMStudioKvCacheExhaustedError, before and after their first token", async () => {
    const key = "qwen2.5-7b-instruct";
    sim = await startSimulator({
      loadTimeScale: 0,
      decodeMsPerToken: 4,
      models: [{ key, type: "llm", maxContextLength: 32768 }],
      preload: [{ key, contextLength: 4096 }],
    });
    const chat = new ChatLMStudio({ baseUrl: sim.baseUrl, model: key, maxRetries: 0, maxTokens: 400 });
    const prompt = (tag: string) => `${tag} ${"abcd ".repeat(1630)}`;
    const streamed: string[] = [];
    const streaming = (async () => {
      for await (const chunk of await chat.stream(prompt("streamer"))) streamed.push(String(chunk.content));
    })();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const invoked = [chat.invoke(prompt("a")), chat.invoke(prompt("b"))];
    const outcomes = await Promise.allSettled([streaming, ...invoked]);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe("rejected");
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(LMStudioKvCacheExhaustedError);
    }
    // The streaming caller had already received tokens: the failure came inside its stream.
    expect(streamed.join("").length).toBeGreaterThan(0);
  });
});
