import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ChatLMStudio } from "../../src/index.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";

/** ChatLMStudio's `ttl` reaches LM Studio and sets the JIT-loaded instance's idle TTL (issue 17 item 3). */

const MODEL = "qwen2.5-7b-instruct";
let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({ loadTimeScale: 0 });
});
afterAll(async () => {
  await sim.close();
});

const loaded = () => sim.loaded().map((i) => i.identifier);

describe("ChatLMStudio ttl", () => {
  test("the constructor's ttl JIT-loads the model with that idle TTL; it unloads when it expires", async () => {
    const chat = new ChatLMStudio({ model: MODEL, baseUrl: sim.baseUrl, ttl: 120 });
    const reply = await chat.invoke("hello");
    expect(reply.content).toBe("You said: hello");
    expect(sim.requests.at(-1)?.body).toMatchObject({ model: MODEL, ttl: 120 });
    expect(sim.advanceClock(119_000)).toEqual([]);
    expect(loaded()).toEqual([MODEL]);
    expect(sim.advanceClock(1000).map((i) => i.identifier)).toEqual([MODEL]);
    expect(loaded()).toEqual([]);
  });

  test("a call option overrides it; without any ttl LM Studio's 60-minute default applies", async () => {
    const chat = new ChatLMStudio({ model: MODEL, baseUrl: sim.baseUrl });
    await chat.invoke("hello", { ttl: 30 });
    expect(sim.advanceClock(30_000).map((i) => i.identifier)).toEqual([MODEL]);
    await chat.invoke("hello");
    expect(sim.requests.at(-1)?.body).not.toHaveProperty("ttl");
    expect(sim.advanceClock(59 * 60_000)).toEqual([]);
    expect(sim.advanceClock(60_000).map((i) => i.identifier)).toEqual([MODEL]);
  });
});
