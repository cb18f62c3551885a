import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { type InferenceBackend, scriptedBackend } from "./backend.js";
import type { CatalogModel } from "./catalog.js";
import { FaultBook } from "./faults.js";
import { createHttpHandler } from "./http-router.js";
import { createLlamaBackend } from "./llama-backend.js";
import { isLoadFailure, SimulatorState } from "./state.js";
import type { RecordedRequest, RunningSimulator, SimulatorOptions } from "./types.js";
import { SDK_NAMESPACES, sdkEndpointsFor } from "./ws-namespaces.js";
import { serveSdkSocket } from "./ws-protocol.js";

const TOKEN_PATTERN = /^sk-lm-(?<clientIdentifier>[a-zA-Z0-9]{8}):(?<clientPasskey>[a-zA-Z0-9]{20})$/;

/** The credentials the SDK derives from an API token (it splits `sk-lm-ID:PASSKEY`). */
function sdkCredentials(token: string | undefined) {
  if (token === undefined) return undefined;
  const match = TOKEN_PATTERN.exec(token);
  // A token not in LM Studio's format can never be presented by the SDK: require it verbatim.
  return {
    clientIdentifier: match?.groups?.clientIdentifier ?? token,
    clientPasskey: match?.groups?.clientPasskey ?? token,
  };
}

/**
 * Starts a fake LM Studio: the HTTP APIs (/v1, /api/v0, /api/v1) and the SDK WebSocket namespaces
 * on one port.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const resolved = SimulatorState.resolveOptions(options);
  // Models with a GGUF file run on llama.cpp when that backend is chosen; the rest stay scripted.
  const llama =
    options.backend === "llama.cpp" ? createLlamaBackend({ threads: options.llamaThreads ?? 1 }) : undefined;
  const backendFor = (model: CatalogModel): InferenceBackend =>
    llama !== undefined && model.gguf !== undefined ? llama : scriptedBackend;
  const state = new SimulatorState(resolved, options.models, backendFor);
  for (const preload of options.preload ?? []) {
    const plan = state.planLoad(preload.key, {
      ...(preload.identifier !== undefined ? { identifier: preload.identifier } : {}),
      ...(preload.contextLength !== undefined ? { contextLength: preload.contextLength } : {}),
      ...(preload.parallel !== undefined ? { parallel: preload.parallel } : {}),
      ...(preload.unifiedKvCache !== undefined ? { unifiedKvCache: preload.unifiedKvCache } : {}),
    });
    const loaded = isLoadFailure(plan) ? plan : await state.commitLoad(plan);
    if (isLoadFailure(loaded)) {
      await llama?.close();
      throw new Error(`Cannot preload "${preload.key}": ${loaded.message}`);
    }
  }
  const faults = new FaultBook();
  const requests: RecordedRequest[] = [];
  const handler = createHttpHandler(state, faults, requests);
  const server = createServer((req, res) => {
    void handler(req, res);
  });
  const wss = new WebSocketServer({ noServer: true });
  const credentials = sdkCredentials(resolved.apiToken);
  // Upgrade sockets left hanging by the "ws-no-handshake" fault; the HTTP server no longer tracks them.
  const unanswered = new Set<Duplex>();
  // Idle TTLs also expire while nobody calls (each request checks them first as well).
  const ttlSweep = setInterval(() => state.expireIdle(), 1000);
  ttlSweep.unref();

  server.on("upgrade", (req, socket, head) => {
    const namespace = new URL(req.url ?? "/", "http://simulator").pathname.replace(/^\/+|\/+$/g, "");
    if (!SDK_NAMESPACES.includes(namespace)) {
      socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
      return;
    }
    if (faults.take("ws-no-handshake", `/${namespace}`)) {
      unanswered.add(socket);
      socket.once("close", () => unanswered.delete(socket));
      return;
    }
    const silent = faults.take("ws-silent", `/${namespace}`) !== undefined;
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (silent) return;
      serveSdkSocket(ws, { namespace, state, faults }, sdkEndpointsFor(namespace), credentials);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(resolved.port, resolved.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = resolved.host.includes(":") ? `[${resolved.host}]` : resolved.host;

  return {
    baseUrl: `http://${hostForUrl}:${port}/v1`,
    wsUrl: `ws://${hostForUrl}:${port}`,
    port,
    requests,
    injectFault: (fault) => faults.add(fault),
    clearFaults: () => faults.clear(),
    loaded: () => state.views(),
    advanceClock: (ms) => state.views(state.advanceClock(ms)),
    kvTotals: (modelKey) =>
      state.kvTotals.get(modelKey) ?? { promptTokens: 0, processedPromptTokens: 0, exhaustedPredictions: 0 },
    kvCache: (identifier) => {
      const kv = state.findInstance(identifier)?.kv;
      return kv && { parallel: kv.settings.parallel, unifiedKvCache: kv.settings.unified, ...kv.stats };
    },
    loadCounts: () => ({ ...state.counts }),
    close: async () => {
      clearInterval(ttlSweep);
      for (const client of wss.clients) client.terminate();
      for (const socket of unanswered) socket.destroy();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Contexts still being freed in the background must finish before the engine itself is
      // disposed: disposing llama.cpp under them could wait forever on a loaded machine.
      await state.released();
      await llama?.close();
    },
  };
}
