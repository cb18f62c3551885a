import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { connectSdkSocket, type Json } from "./helpers.js";

let sim: RunningSimulator;

beforeAll(async () => {
  // Real load times here: model "m" takes 100 s to load, so a load stays in flight until cancelled.
  sim = await startSimulator({
    loadTimeScale: 1,
    models: [{ key: "m", type: "llm", maxContextLength: 32768, loadLimit: 8192, loadTimeMs: 100_000 }],
  });
});
afterAll(async () => {
  await sim.close();
});

const connect = (namespace: string) => connectSdkSocket(sim.wsUrl, namespace);

describe("SDK wire protocol (raw frames)", () => {
  test("every namespace authenticates", async () => {
    for (const ns of ["diagnostics", "files", "repository", "plugins", "runtime"]) {
      const c = await connect(ns);
      c.socket.close();
    }
  });

  test("ids are echoed from the client's one counter; load channel: resolved, then cancel", async () => {
    const c = await connect("llm");
    c.send({
      type: "channelCreate",
      endpoint: "loadModel",
      channelId: 7,
      creationParameter: {
        modelKey: "m",
        loadConfigStack: {
          layers: [
            {
              layerName: "apiOverride",
              config: { fields: [{ key: "llm.load.contextLength", value: 4096 }] },
            },
          ],
        },
      },
    });
    const resolved = await c.next((f) => f.type === "channelSend");
    expect(resolved).toMatchObject({
      channelId: 7,
      message: { type: "resolved", info: { type: "llm", modelKey: "m" } },
    });
    c.send({ type: "rpcCall", endpoint: "listLoaded", callId: 8 });
    expect(await c.next((f) => f.type === "rpcResult")).toEqual({ type: "rpcResult", callId: 8, result: [] });
    c.send({ type: "channelSend", channelId: 7, message: { type: "cancel" } });
    const end = await c.next((f) => f.type === "channelError" || f.type === "channelClose");
    expect(end).toMatchObject({ type: "channelError", channelId: 7 });
    expect(sim.loaded()).toEqual([]);
    c.socket.close();
  });

  test("over loadLimit → channelError with the guardrail title; unknown path → generic.pathNotFound", async () => {
    const c = await connect("llm");
    const stack = (n: number) => ({
      layers: [
        { layerName: "apiOverride", config: { fields: [{ key: "llm.load.contextLength", value: n }] } },
      ],
    });
    c.send({
      type: "channelCreate",
      endpoint: "loadModel",
      channelId: 0,
      creationParameter: { modelKey: "m", loadConfigStack: stack(9000) },
    });
    const refused = await c.next((f) => f.channelId === 0);
    expect(refused.type).toBe("channelError");
    expect(refused.error.title).toMatch(/^Model loading was stopped due to insufficient system resources\./);
    c.send({
      type: "channelCreate",
      endpoint: "loadModel",
      channelId: 1,
      creationParameter: { modelKey: "nope", loadConfigStack: stack(10) },
    });
    const missing = await c.next((f) => f.channelId === 1);
    expect(missing).toEqual({
      type: "channelError",
      channelId: 1,
      error: {
        title: 'Cannot find a model with path "nope"',
        rootTitle: 'Cannot find a model with path "nope"',
        stack: expect.stringMatching(/^Error: Cannot find a model with path "nope"\n/),
        displayData: {
          code: "generic.pathNotFound",
          path: "nope",
          availablePathsSample: ["m"],
          totalModels: 1,
        },
      },
    });
    c.send({
      type: "rpcCall",
      endpoint: "estimateModelUsage",
      callId: 2,
      parameter: { modelKey: "m", loadConfigStack: stack(9000) },
    });
    const estimate = await c.next((f) => f.callId === 2);
    expect(estimate.result.passesGuardrails).toBe(false);
    expect(estimate.result.memory.totalBytes).toBe(
      estimate.result.memory.modelBytes + estimate.result.memory.contextBytes,
    );
    c.send({
      type: "rpcCall",
      endpoint: "estimateModelUsage",
      callId: 3,
      parameter: { modelKey: "m", loadConfigStack: stack(8192) },
    });
    expect((await c.next((f) => f.callId === 3)).result.passesGuardrails).toBe(true);
    c.socket.close();
  });

  test("a successful load ends success → channelClose, and getLoadConfig holds llm.load.contextLength", async () => {
    const fast = await startSimulator({ loadTimeScale: 0 });
    try {
      const socket = new WebSocket(`${fast.wsUrl}/llm`);
      const frames: Json[] = [];
      await new Promise((resolve) => socket.once("open", resolve));
      const got = new Promise<void>((resolve) => {
        socket.on("message", (data) => {
          frames.push(JSON.parse(String(data)));
          if (frames.some((f) => f.callId === 1)) resolve();
        });
      });
      socket.send(JSON.stringify({ authVersion: 1, clientIdentifier: "a", clientPasskey: "b" }));
      socket.send(
        JSON.stringify({
          type: "channelCreate",
          endpoint: "loadModel",
          channelId: 0,
          creationParameter: {
            modelKey: "qwen2.5-7b-instruct",
            identifier: "x",
            loadConfigStack: { layers: [] },
          },
        }),
      );
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (frames.some((f) => f.type === "channelClose")) {
            clearInterval(timer);
            resolve();
          }
        }, 5);
      });
      const kinds = frames.filter((f) => f.channelId === 0).map((f) => f.message?.type ?? f.type);
      expect(kinds[0]).toBe("resolved");
      expect(kinds).toContain("progress");
      expect(kinds.slice(-2)).toEqual(["success", "channelClose"]);
      const success = frames.find((f) => f.message?.type === "success").message.info;
      for (const key of [
        "identifier",
        "instanceReference",
        "ttlMs",
        "lastUsedTime",
        "contextLength",
        "indexedModelIdentifier",
        "deviceIdentifier",
      ]) {
        expect(success).toHaveProperty(key);
      }
      socket.send(
        JSON.stringify({
          type: "rpcCall",
          endpoint: "getLoadConfig",
          callId: 1,
          parameter: {
            specifier: { type: "instanceReference", instanceReference: success.instanceReference },
          },
        }),
      );
      await got;
      const config = frames.find((f) => f.callId === 1);
      expect(config.result.fields).toContainEqual({ key: "llm.load.contextLength", value: 4096 });
      socket.close();
    } finally {
      await fast.close();
    }
  });
});
