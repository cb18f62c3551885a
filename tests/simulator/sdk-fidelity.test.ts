import { LMStudioClient } from "@lmstudio/sdk";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { connectSdkSocket, type Json } from "./helpers.js";

/**
 * Reference §10: what LM Studio's ServerPort and serializeError() send, checked on raw frames and
 * through the real @lmstudio/sdk 2.0.0.
 */

const LLM = "qwen2.5-7b-instruct";
const EMBED = "text-embedding-nomic-embed-text-v1.5";
const AUTH_TIMEOUT_MS = 150;

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({
    loadTimeScale: 0,
    authTimeoutMs: AUTH_TIMEOUT_MS,
    sdkEndpointsMissing: ["llm/estimateModelUsage"],
    preload: [{ key: LLM, identifier: "loaded-llm" }],
  });
});
afterAll(async () => {
  await sim.close();
});

const ref = (instanceReference: string) => ({ type: "instanceReference", instanceReference });
const emptyStack = { layers: [] };

/** Every key serializeError() always sets, with rootTitle equal to title (lms-shared-types Error.ts). */
function expectSerialized(error: Json, title: string | RegExp) {
  expect(Object.keys(error)).toEqual(expect.arrayContaining(["title", "rootTitle", "stack"]));
  if (typeof title === "string") expect(error.title).toBe(title);
  else expect(error.title).toMatch(title);
  expect(error.rootTitle).toBe(error.title);
  expect(error.stack).toMatch(/^Error: /);
}

describe("item 1: SDK error frames carry title, rootTitle and stack", () => {
  test("identifier not found, no model matching, unloaded, domain mismatch, path not found", async () => {
    const c = await connectSdkSocket(sim.wsUrl, "llm");
    c.send({ type: "rpcCall", endpoint: "unloadModel", callId: 0, parameter: { identifier: "ghost" } });
    const identifier = (await c.next((f) => f.callId === 0)).error;
    expectSerialized(identifier, 'Cannot find a model with identifier "ghost"');
    expect(identifier.displayData).toEqual({
      code: "generic.identifierNotFound",
      identifier: "ghost",
      loadedModelsSample: ["loaded-llm"],
      totalLoadedModels: 1,
    });

    c.send({
      type: "rpcCall",
      endpoint: "getModelInfo",
      callId: 1,
      parameter: { specifier: { type: "query", query: { identifier: "ghost" } }, throwIfNotFound: true },
    });
    const query = (await c.next((f) => f.callId === 1)).error;
    expectSerialized(query, "No loaded model satisfies all requirements specified in the query.");
    expect(query.displayData.code).toBe("generic.noModelMatchingQuery");

    c.send({
      type: "rpcCall",
      endpoint: "getLoadConfig",
      callId: 2,
      parameter: { specifier: ref("sim-instance-999") },
    });
    const unloaded = (await c.next((f) => f.callId === 2)).error;
    expectSerialized(unloaded, "This model has already been unloaded.");
    expect(unloaded.displayData).toEqual({ code: "generic.specificModelUnloaded" });

    c.send({
      type: "channelCreate",
      endpoint: "loadModel",
      channelId: 3,
      creationParameter: { modelKey: EMBED, loadConfigStack: emptyStack },
    });
    const mismatch = (await c.next((f) => f.channelId === 3)).error;
    expectSerialized(mismatch, /is a embedding model, but a llm model was expected/);
    expect(mismatch.displayData).toMatchObject({
      code: "generic.domainMismatch",
      actualDomain: "embedding",
      expectedDomain: "llm",
    });

    c.send({
      type: "channelCreate",
      endpoint: "loadModel",
      channelId: 4,
      creationParameter: { modelKey: "nope", loadConfigStack: emptyStack },
    });
    const path = (await c.next((f) => f.channelId === 4)).error;
    expectSerialized(path, 'Cannot find a model with path "nope"');
    c.socket.close();
  });

  test("the SDK's plain deserializer builds the message from rootTitle, so it matches a real server's", async () => {
    const client = new LMStudioClient({ baseUrl: sim.wsUrl, logger: silentLogger() });
    try {
      const failure = await client.llm.unload("ghost").catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(Error);
      // The friendly deserializer attaches the clean title as a field.
      expect((failure as { title?: unknown }).title).toBe('Cannot find a model with identifier "ghost"');
      expect((failure as Error).message).toContain("ghost");
      expect((failure as Error).message).not.toContain("caused by error without stack");
    } finally {
      await client[Symbol.asyncDispose]();
    }
  });
});

describe("item 2: unknown endpoints and invalid parameters get a communicationWarning and no reply", () => {
  test("unknown rpc endpoint: warning of kind rpcEndpointUnknown, the call is never answered", async () => {
    const c = await connectSdkSocket(sim.wsUrl, "llm");
    c.send({ type: "rpcCall", endpoint: "noSuchEndpoint", callId: 0, parameter: {} });
    const warning = await c.next((f) => f.type === "communicationWarning");
    expect(warning).toEqual({
      type: "communicationWarning",
      warning: "Received rpcCall for unknown endpoint, endpoint = noSuchEndpoint",
      kind: "rpcEndpointUnknown",
    });
    // A later call on the same socket is answered; the first one never is.
    c.send({ type: "rpcCall", endpoint: "listLoaded", callId: 1 });
    expect((await c.next((f) => f.callId === 1)).type).toBe("rpcResult");
    expect(c.frames.filter((f) => f.callId === 0)).toEqual([]);
    c.socket.close();
  });

  test("unknown channel endpoint and an endpoint an older server lacks", async () => {
    const c = await connectSdkSocket(sim.wsUrl, "llm");
    c.send({ type: "channelCreate", endpoint: "noSuchChannel", channelId: 0, creationParameter: {} });
    expect(await c.next((f) => f.type === "communicationWarning")).toMatchObject({
      kind: "channelEndpointUnknown",
    });
    // The channel was never created, so cancelling it is a message for an unknown channel.
    c.send({ type: "channelSend", channelId: 0, message: { type: "cancel" } });
    expect(await c.next((f) => f.type === "communicationWarning")).toEqual({
      type: "communicationWarning",
      warning: "Received channelSend for unknown channel, channelId = 0",
      kind: "channelUnknown",
    });
    c.send({
      type: "rpcCall",
      endpoint: "estimateModelUsage",
      callId: 1,
      parameter: { modelKey: LLM, loadConfigStack: emptyStack },
    });
    expect(await c.next((f) => f.type === "communicationWarning")).toMatchObject({
      warning: "Received rpcCall for unknown endpoint, endpoint = estimateModelUsage",
      kind: "rpcEndpointUnknown",
    });
    c.send({ type: "rpcCall", endpoint: "listLoaded", callId: 2 });
    await c.next((f) => f.callId === 2);
    expect(c.frames.filter((f) => f.callId === 1 || f.channelId === 0)).toEqual([]);
    c.socket.close();
  });

  test("a parameter that fails validation: rpcParameterTypeError / channelCreationParameterTypeError", async () => {
    const c = await connectSdkSocket(sim.wsUrl, "llm");
    c.send({
      type: "rpcCall",
      endpoint: "countTokens",
      callId: 0,
      parameter: { specifier: ref("sim-instance-1"), inputString: 42 },
    });
    const rpcWarning = await c.next((f) => f.type === "communicationWarning");
    expect(rpcWarning.kind).toBe("rpcParameterTypeError");
    expect(rpcWarning.warning).toMatch(/endpointName = countTokens.*inputString/);
    c.send({
      type: "channelCreate",
      endpoint: "loadModel",
      channelId: 1,
      creationParameter: { modelKey: 7 },
    });
    expect((await c.next((f) => f.type === "communicationWarning")).kind).toBe(
      "channelCreationParameterTypeError",
    );
    c.send({ type: "rpcCall", endpoint: "listLoaded", callId: 2 });
    await c.next((f) => f.callId === 2);
    expect(c.frames.filter((f) => f.callId === 0 || f.channelId === 1)).toEqual([]);
    expect(sim.loaded().map((i) => i.identifier)).toEqual(["loaded-llm"]);
    c.socket.close();
  });

  test("at most 5 warnings per socket, as LM Studio's ServerPort", async () => {
    const c = await connectSdkSocket(sim.wsUrl, "system");
    for (let callId = 0; callId < 7; callId++) c.send({ type: "rpcCall", endpoint: "nope", callId });
    c.send({ type: "rpcCall", endpoint: "version", callId: 7 });
    await c.next((f) => f.callId === 7);
    expect(c.frames.filter((f) => f.type === "communicationWarning")).toHaveLength(5);
    c.socket.close();
  });

  test("the real SDK's call to a missing endpoint never settles on its own", async () => {
    const client = new LMStudioClient({ baseUrl: sim.wsUrl, logger: silentLogger() });
    try {
      const pending = client.llm.estimateResourcesUsage(LLM, { contextLength: 4096 });
      const outcome = await Promise.race([
        pending.then(
          () => "resolved",
          () => "rejected",
        ),
        new Promise((resolve) => setTimeout(() => resolve("still pending"), 300)),
      ]);
      expect(outcome).toBe("still pending");
    } finally {
      // Disposing waits for pending calls, and this one never ends: close without waiting.
      void client[Symbol.asyncDispose]();
    }
  });
});

describe("item 2: a malformed auth packet waits for the authentication timeout", () => {
  test("malformed packets are ignored; the socket fails with 'Authentication timed out'", async () => {
    const c = await connectSdkSocket(sim.wsUrl, "llm", false);
    c.send("not json");
    c.send({ authVersion: 2, clientIdentifier: "x" });
    // Not answered at once: only the (configured) timeout ends the wait.
    await new Promise((resolve) => setTimeout(resolve, AUTH_TIMEOUT_MS / 3));
    expect(c.frames).toEqual([]);
    const answer = await c.next(() => true);
    expect(answer).toEqual({ success: false, error: "Authentication timed out" });
    await expect.poll(() => c.isClosed()).toBe(true);
  });

  test("a valid packet after a malformed one still authenticates", async () => {
    const c = await connectSdkSocket(sim.wsUrl, "llm", false);
    c.send({ authVersion: 1 });
    c.send({ authVersion: 1, clientIdentifier: "guest:a", clientPasskey: "b" });
    expect(await c.next(() => true)).toEqual({ success: true });
    await new Promise((resolve) => setTimeout(resolve, AUTH_TIMEOUT_MS + 50));
    expect(c.isClosed()).toBe(false);
    c.socket.close();
  });

  test("wrong credentials are refused at once", async () => {
    const guarded = await startSimulator({ apiToken: "sk-lm-abcdefgh:abcdefghijabcdefghij" });
    try {
      const c = await connectSdkSocket(guarded.wsUrl, "llm", false);
      c.send({ authVersion: 1, clientIdentifier: "abcdefgh", clientPasskey: "wrong" });
      expect(await c.next(() => true)).toEqual({
        success: false,
        error: "Invalid client identifier or passkey.",
      });
    } finally {
      await guarded.close();
    }
  });
});

function silentLogger() {
  const noop = () => {};
  return { info: noop, warn: noop, error: noop, debug: noop };
}
