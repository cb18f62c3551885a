import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AIMessage, type AIMessageChunk } from "@langchain/core/messages";
import { afterEach, describe, expect, it } from "vitest";
import { createContextGuard } from "../../src/context-guard/index.js";
import { ChatLMStudio, LMStudioEmptyResponseError, LMStudioRequestError } from "../../src/index.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { type RawServer, startRawServer } from "./raw-server.js";

/** Focused regressions for bugs the reliability suite found in library code. */

const MODEL = "qwen2.5-7b-instruct";
let sim: RunningSimulator | undefined;
let raw: RawServer | undefined;
afterEach(async () => {
  await sim?.close();
  await raw?.close();
  sim = undefined;
  raw = undefined;
});

async function drain(stream: AsyncIterable<AIMessageChunk>): Promise<string> {
  let text = "";
  for await (const chunk of stream) text += chunk.text;
  return text;
}

describe("a connection that breaks mid-answer", () => {
  it("is an LMStudioRequestError on a stream, not undici's bare TypeError: terminated", async () => {
    sim = await startSimulator({ port: 0, loadTimeScale: 0 });
    sim.injectFault({ kind: "reset-mid-stream", afterChunks: 2 });
    const model = new ChatLMStudio({ baseUrl: sim.baseUrl, model: MODEL, maxRetries: 0 });
    const error = await drain(await model.stream("Hello there")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioRequestError);
    expect((error as LMStudioRequestError).message).toMatch(/broke before the answer was complete/);
    expect((error as LMStudioRequestError).status).toBeUndefined();
  });

  it("is retried, then typed, when a JSON answer is cut off", async () => {
    raw = await startRawServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "400" });
      res.write(
        '{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hel',
      );
      setTimeout(() => res.socket?.destroy(), 10);
    });
    const model = new ChatLMStudio({ baseUrl: raw.baseUrl, model: MODEL, maxRetries: 1 });
    const error = await model.invoke("Hello there").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioRequestError);
    expect(raw.hits.filter((hit) => hit === "/v1/chat/completions")).toHaveLength(2);
  });
});

describe("a guarded request whose model load loses the SDK socket", () => {
  it("retries the load once and answers", async () => {
    sim = await startSimulator({ port: 0, loadTimeScale: 0 });
    sim.injectFault({ kind: "ws-drop-mid-load" });
    const dir = await mkdtemp(join(tmpdir(), "reliability-drop-"));
    const guard = createContextGuard({
      baseUrl: sim.baseUrl,
      registryPath: join(dir, "registry.json"),
      untested: "declared",
      onWarning: () => {},
    });
    try {
      const model = new ChatLMStudio({
        baseUrl: sim.baseUrl,
        model: MODEL,
        maxRetries: 0,
        contextGuard: guard,
      });
      const answer = await model.invoke("Hello there");
      expect(answer.text).toBe("You said: Hello there");
      expect(sim.loaded().filter((instance) => instance.identifier.includes("@guard-"))).toHaveLength(1);
    } finally {
      await guard.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("malformed 200 answers to invoke", () => {
  const answer = (body: string) =>
    startRawServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(body);
    });

  it("a body that is not JSON is a typed LMStudioRequestError, not a SyntaxError", async () => {
    raw = await answer('\u0080{"id":"x"');
    const error = await new ChatLMStudio({ baseUrl: raw.baseUrl, model: MODEL, maxRetries: 0 })
      .invoke("Hello")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioRequestError);
    expect((error as Error).message).toMatch(/not valid JSON/);
  });

  it("an empty body is an LMStudioEmptyResponseError, not a TypeError", async () => {
    raw = await answer("");
    const error = await new ChatLMStudio({ baseUrl: raw.baseUrl, model: MODEL, maxRetries: 0 })
      .invoke("Hello")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioEmptyResponseError);
  });

  it("a message without a role is still an AIMessage", async () => {
    raw = await answer(
      JSON.stringify({
        id: "x",
        model: MODEL,
        choices: [{ index: 0, message: { content: "Hi" }, finish_reason: "stop" }],
      }),
    );
    const message = await new ChatLMStudio({ baseUrl: raw.baseUrl, model: MODEL, maxRetries: 0 }).invoke(
      "Hello",
    );
    expect(AIMessage.isInstance(message)).toBe(true);
    expect(message.text).toBe("Hi");
  });
});

describe("a huge error body", () => {
  it("is cut in the error message and kept whole on `body`", async () => {
    const text = "e".repeat(1_000_000);
    raw = await startRawServer((_req, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: text }));
    });
    const error = (await new ChatLMStudio({ baseUrl: raw.baseUrl, model: MODEL, maxRetries: 0 })
      .invoke("Hello")
      .catch((e: unknown) => e)) as LMStudioRequestError;
    expect(error).toBeInstanceOf(LMStudioRequestError);
    expect(error.message.length).toBeLessThan(3_000);
    expect(error.message).toMatch(/998000 more characters/);
    expect(JSON.stringify(error.body)).toContain(text);
  });
});
