import { LMStudioClient } from "@lmstudio/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { getJson, postJson, postSse } from "./helpers.js";

process.env.LMS_NO_FANCY_ERRORS = "1";
const MODEL = "qwen2.5-7b-instruct";
let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({ loadTimeScale: 0, preload: [{ key: MODEL }] });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => sim.clearFaults());

const chatBody = (extra: Record<string, unknown> = {}) => ({
  model: MODEL,
  messages: [{ role: "user", content: "please stream a reasonably long answer back to me" }],
  ...extra,
});

describe("fault injection", () => {
  test("status 503 fires `times` times on matching paths only", async () => {
    sim.injectFault({ kind: "status", status: 503, path: "/v1/chat", times: 2 });
    expect((await getJson(`${sim.baseUrl}/models`)).status).toBe(200);
    const first = await postJson(`${sim.baseUrl}/chat/completions`, chatBody());
    expect(first.status).toBe(503);
    expect(first.body).toEqual({ error: "Simulated HTTP 503 error" });
    expect((await postJson(`${sim.baseUrl}/chat/completions`, chatBody())).status).toBe(503);
    expect((await postJson(`${sim.baseUrl}/chat/completions`, chatBody())).status).toBe(200);
  });

  test("status 500 with a custom body", async () => {
    sim.injectFault({ kind: "status", status: 500, body: { error: "boom" } });
    const res = await postJson(`${sim.baseUrl}/chat/completions`, chatBody());
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: "boom" });
  });

  test("latency still answers correctly", async () => {
    sim.injectFault({ kind: "latency", ms: 20 });
    const res = await postJson(`${sim.baseUrl}/chat/completions`, chatBody());
    expect(res.status).toBe(200);
  });

  test("reset mid-stream makes the openai client throw after some chunks", async () => {
    sim.injectFault({ kind: "reset-mid-stream", afterChunks: 2 });
    const client = new OpenAI({ baseURL: sim.baseUrl, apiKey: "x", maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "please stream a reasonably long answer back to me" }],
      stream: true,
    });
    let received = 0;
    await expect(
      (async () => {
        for await (const _chunk of stream) received += 1;
      })(),
    ).rejects.toThrow();
    expect(received).toBeLessThanOrEqual(2);
  });

  test("empty stream: HTTP 200 event-stream with no frames at all", async () => {
    sim.injectFault({ kind: "empty-stream" });
    const res = await postSse(`${sim.baseUrl}/chat/completions`, chatBody({ stream: true }));
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^text\/event-stream/);
    expect(res.frames).toEqual([]);
  });

  test("probability 0 never fires; Infinity times keeps firing", async () => {
    sim.injectFault({ kind: "status", status: 500, probability: 0 });
    expect((await postJson(`${sim.baseUrl}/chat/completions`, chatBody())).status).toBe(200);
    sim.clearFaults();
    sim.injectFault({ kind: "status", status: 503, times: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 3; i++) expect((await getJson(`${sim.baseUrl}/models`)).status).toBe(503);
  });

  test("evict unloads an instance before the request (SDK handle then reports it unloaded)", async () => {
    const client = new LMStudioClient({
      baseUrl: sim.wsUrl,
      logger: { info() {}, warn() {}, error() {}, debug() {} },
    });
    try {
      const model = await client.llm.load(MODEL, { identifier: "victim", verbose: false });
      sim.injectFault({ kind: "evict", identifier: "victim", path: "/v1" });
      await getJson(`${sim.baseUrl}/models`);
      expect(sim.loaded().map((i) => i.identifier)).not.toContain("victim");
      await expect(model.unload()).rejects.toThrow(/already been unloaded/);
    } finally {
      await client[Symbol.asyncDispose]();
    }
  });
});

describe("SDK auth", () => {
  test("a matching apiToken authenticates; a wrong one fails with 'Failed to authenticate'", async () => {
    const token = "sk-lm-abcdEFGH:abcdefghijABCDEFGHIJ";
    const s = await startSimulator({ apiToken: token, loadTimeScale: 0 });
    const good = new LMStudioClient({ baseUrl: s.wsUrl, apiToken: token });
    const quiet = { info() {}, warn() {}, error() {}, debug() {} };
    const bad = new LMStudioClient({
      baseUrl: s.wsUrl,
      apiToken: "sk-lm-zzzzZZZZ:zzzzzzzzzzZZZZZZZZZZ",
      logger: quiet,
    });
    try {
      expect((await good.system.listDownloadedModels()).length).toBe(3);
      await expect(bad.system.listDownloadedModels()).rejects.toThrow(/Failed to authenticate/);
    } finally {
      await good[Symbol.asyncDispose]();
      await bad[Symbol.asyncDispose]();
      await s.close();
    }
  });
});
