import { afterEach, describe, expect, test } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { connectSdkSocket, postJson } from "./helpers.js";

/**
 * Idle TTL (reference §10, docs ttl-and-auto-evict.md): JIT loads default to 60 minutes, a request's
 * `ttl` (seconds) overrides it, SDK loads have a TTL only when given one, and the idle timer restarts
 * on every use. The simulator's clock is advanced instead of waited for.
 */

const LLM = "qwen2.5-7b-instruct";
const EMBED = "text-embedding-nomic-embed-text-v1.5";
const MINUTE = 60_000;

let sim: RunningSimulator;
afterEach(async () => {
  await sim?.close();
});

const chat = (body: Record<string, unknown> = {}) =>
  postJson(`${sim.baseUrl}/chat/completions`, {
    model: LLM,
    messages: [{ role: "user", content: "hi" }],
    ...body,
  });
const identifiers = () => sim.loaded().map((i) => i.identifier);

const stack = { layers: [] };

describe("idle TTL", () => {
  test("a JIT load without ttl unloads after 60 idle minutes, not before", async () => {
    sim = await startSimulator({ loadTimeScale: 0 });
    expect((await chat()).status).toBe(200);
    expect(sim.advanceClock(60 * MINUTE - 1000)).toEqual([]);
    expect(identifiers()).toEqual([LLM]);
    expect(sim.advanceClock(1000)).toEqual([
      { identifier: LLM, modelKey: LLM, contextLength: 4096, jit: true },
    ]);
    expect(identifiers()).toEqual([]);
  });

  test("a request's ttl sets the JIT instance's TTL, and each use restarts the idle timer", async () => {
    sim = await startSimulator({ loadTimeScale: 0 });
    expect((await chat({ ttl: 300 })).status).toBe(200);
    sim.advanceClock(299_000);
    expect((await chat()).status).toBe(200);
    sim.advanceClock(299_000);
    expect(identifiers()).toEqual([LLM]);
    expect(sim.advanceClock(1000).map((i) => i.identifier)).toEqual([LLM]);
    // The next request JIT-loads it again.
    expect((await chat()).status).toBe(200);
    expect(identifiers()).toEqual([LLM]);
  });

  test("ttl on /v1/embeddings and /api/v0 applies too; a bad ttl is a validation error", async () => {
    sim = await startSimulator({ loadTimeScale: 0 });
    const origin = sim.baseUrl.replace(/\/v1$/, "");
    expect((await postJson(`${sim.baseUrl}/embeddings`, { model: EMBED, input: "x", ttl: 10 })).status).toBe(
      200,
    );
    // Each JIT load auto-evicts the previous JIT model, so check one at a time.
    expect(sim.advanceClock(10_000).map((i) => i.identifier)).toEqual([EMBED]);
    expect(
      (
        await postJson(`${origin}/api/v0/chat/completions`, {
          model: LLM,
          messages: [{ role: "user", content: "hi" }],
          ttl: 20,
        })
      ).status,
    ).toBe(200);
    expect(sim.advanceClock(19_000)).toEqual([]);
    expect(sim.advanceClock(1000).map((i) => i.identifier)).toEqual([LLM]);
    const bad = await chat({ ttl: "soon" });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: "'ttl' field must be a positive number" });
  });

  test("a ttl on a request to an already-loaded model changes nothing", async () => {
    sim = await startSimulator({ loadTimeScale: 0, preload: [{ key: LLM }] });
    expect((await chat({ ttl: 5 })).status).toBe(200);
    expect(sim.advanceClock(24 * 60 * MINUTE)).toEqual([]);
    expect(identifiers()).toEqual([LLM]);
  });

  test("SDK loads: ttlMs given → expires and is reported; none → never; getOrLoad → 60 min", async () => {
    sim = await startSimulator({ loadTimeScale: 0 });
    const c = await connectSdkSocket(sim.wsUrl, "llm");
    c.send({
      type: "channelCreate",
      endpoint: "loadModel",
      channelId: 0,
      creationParameter: { modelKey: LLM, identifier: "with-ttl", ttlMs: 120_000, loadConfigStack: stack },
    });
    const success = await c.next((f) => f.channelId === 0 && f.message?.type === "success");
    expect(success.message.info).toMatchObject({
      identifier: "with-ttl",
      ttlMs: 120_000,
      lastUsedTime: null,
    });
    c.send({
      type: "channelCreate",
      endpoint: "loadModel",
      channelId: 1,
      creationParameter: { modelKey: LLM, identifier: "no-ttl", loadConfigStack: stack },
    });
    expect((await c.next((f) => f.channelId === 1 && f.message?.type === "success")).message.info.ttlMs).toBe(
      null,
    );
    expect(sim.advanceClock(120_000).map((i) => i.identifier)).toEqual(["with-ttl"]);
    const embedding = await connectSdkSocket(sim.wsUrl, "embedding");
    embedding.send({
      type: "channelCreate",
      endpoint: "getOrLoad",
      channelId: 0,
      creationParameter: { identifier: EMBED, loadConfigStack: stack },
    });
    const jit = await embedding.next((f) => f.channelId === 0 && f.message?.type === "loadSuccess");
    expect(jit.message.info.ttlMs).toBe(60 * MINUTE);
    embedding.socket.close();
    sim.advanceClock(60 * MINUTE);
    expect(identifiers()).toEqual(["no-ttl"]);
    // Using an instance through the SDK restarts its timer and stamps lastUsedTime.
    c.send({ type: "rpcCall", endpoint: "listLoaded", callId: 3 });
    const [info] = (await c.next((f) => f.callId === 3)).result;
    expect(info).toMatchObject({ identifier: "no-ttl", ttlMs: null });
    c.socket.close();
  });

  test("REST v1 loads have no TTL", async () => {
    sim = await startSimulator({ loadTimeScale: 0 });
    const origin = sim.baseUrl.replace(/\/v1$/, "");
    expect((await postJson(`${origin}/api/v1/models/load`, { model: LLM })).status).toBe(200);
    expect(sim.advanceClock(7 * 24 * 60 * MINUTE)).toEqual([]);
  });

  test("without advancing the clock, a TTL expires in real time", async () => {
    sim = await startSimulator({ loadTimeScale: 0 });
    expect((await chat({ ttl: 0.2 })).status).toBe(200);
    await expect.poll(identifiers, { timeout: 3000, interval: 100 }).toEqual([]);
  });
});
