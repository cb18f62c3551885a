import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../src/cli/exit-codes.js";
import { Lifetime } from "../../src/cli/lifetime.js";
import { runCli as runInProcess } from "../../src/cli/program.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { startCli, waitFor } from "./cli-harness.js";

/**
 * SIGINT and SIGTERM stop the CLI within seconds with the registry consistent; a second signal,
 * or a step that does not finish within the grace period, forces the stop.
 */

let sim: RunningSimulator;
let dir: string;
let silent: Server;
let silentUrl: string;
const held: Socket[] = [];

interface RegistryFileView {
  entries: Record<string, { modelKey: string; status: string; probing?: unknown; probes: unknown[] }>;
}

const readRegistry = async (): Promise<RegistryFileView | undefined> => {
  try {
    return JSON.parse(await readFile(join(dir, "registry.json"), "utf8")) as RegistryFileView;
  } catch {
    return undefined;
  }
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cli-signals-"));
  sim = await startSimulator({
    port: 0,
    // Loads take 3 s, so a signal arrives while one is in flight.
    loadTimeScale: 1,
    models: [{ key: "chat-slow", type: "llm", maxContextLength: 131072, loadTimeMs: 3000 }],
  });
  silent = createServer((_req, res) => res.end("{}"));
  silent.on("upgrade", (_req, socket: Socket) => held.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  for (const socket of held) socket.destroy();
  silent.closeAllConnections();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

describe.each([
  ["SIGINT", EXIT.interrupted],
  ["SIGTERM", EXIT.terminated],
] as const)("%s during test --all", (signal, code) => {
  it("stops within seconds, unloads the probe instance and leaves the entry resumable", async () => {
    await rm(join(dir, "registry.json"), { force: true });
    const run = startCli(["test", "--all"], {
      LMSTUDIO_BASE_URL: sim.baseUrl,
      LMSTUDIO_GUARD_REGISTRY: join(dir, "registry.json"),
    });
    // Wait until a load is in flight: the registry holds this run's "probing" marker.
    await waitFor(
      async () => {
        const entry = Object.values((await readRegistry())?.entries ?? {})[0];
        return entry?.probing ? true : undefined;
      },
      30_000,
      "a probe to start",
    );
    const sentAt = Date.now();
    run.child.kill(signal);
    const result = await run.done;
    const stoppedAfterMs = Date.now() - sentAt;
    expect(result.code).toBe(code);
    expect(result.stderr).toContain(
      "interrupted: probe instances unloaded, registry left consistent; continue with --resume",
    );
    // Bounded by the lifetime's grace period (8 s) plus process exit, never by the probe's own length.
    expect(stoppedAfterMs).toBeLessThan(15_000);
    const entry = Object.values((await readRegistry())?.entries ?? {})[0];
    expect(entry?.modelKey).toBe("chat-slow");
    expect(entry?.probing).toBeUndefined();
    expect(entry?.status).not.toBe("testing");
    expect(sim.loaded()).toEqual([]);
  }, 60_000);
});

describe("forced stops (in process)", () => {
  const argv = (...args: string[]) => ["node", "langchain-lmstudio", ...args];

  it("a command with nothing to finish stops at once on the first signal", async () => {
    const lifetime = new Lifetime(60_000, () => undefined);
    const running = runInProcess(argv("status", "--base-url", silentUrl, "--timeout", "60"), lifetime);
    await new Promise((r) => setTimeout(r, 500));
    lifetime.stop("SIGINT");
    expect(await running).toBe(EXIT.interrupted);
  }, 30_000);

  it("test: a step that does not finish within the grace period is forced", async () => {
    const messages: string[] = [];
    const lifetime = new Lifetime(300, (m) => messages.push(m));
    const running = runInProcess(argv("test", "--all", "--base-url", silentUrl), lifetime);
    await new Promise((r) => setTimeout(r, 500));
    lifetime.stop("SIGTERM");
    expect(await running).toBe(EXIT.terminated);
    expect(messages.join("")).toContain(
      "stopping (SIGTERM) after the current step; press Ctrl-C again to stop at once",
    );
  }, 30_000);

  it("test: a second signal forces the stop without waiting for the grace period", async () => {
    const messages: string[] = [];
    const lifetime = new Lifetime(600_000, (m) => messages.push(m));
    const running = runInProcess(argv("test", "--all", "--base-url", silentUrl), lifetime);
    await new Promise((r) => setTimeout(r, 500));
    lifetime.stop("SIGINT");
    lifetime.stop("SIGINT");
    expect(await running).toBe(EXIT.interrupted);
    expect(messages.join("")).toContain("forcing the stop");
  }, 30_000);

  it("a forced stop runs the registered cleanups, bounded", async () => {
    const lifetime = new Lifetime(600_000, () => undefined);
    const ran: string[] = [];
    lifetime.onForcedStop(async () => {
      ran.push("quick");
    });
    lifetime.onForcedStop(() => new Promise<void>(() => undefined));
    const running = runInProcess(argv("test", "--all", "--base-url", silentUrl), lifetime);
    await new Promise((r) => setTimeout(r, 500));
    lifetime.stop("SIGINT");
    lifetime.stop("SIGINT");
    expect(await running).toBe(EXIT.interrupted);
    expect(ran).toEqual(["quick"]);
  }, 30_000);
});

describe("LM Studio stops during test --all", () => {
  it("the run stops with the unreachable message and exit 3, the registry consistent", async () => {
    const doomed = await startSimulator({
      port: 0,
      loadTimeScale: 1,
      models: [
        { key: "chat-a", type: "llm", maxContextLength: 131072, loadTimeMs: 2000 },
        { key: "chat-b", type: "llm", maxContextLength: 131072, loadTimeMs: 2000, sizeBytes: 5_000_000_000 },
      ],
    });
    const registry = join(dir, "stopping-registry.json");
    const run = startCli(["test", "--all"], {
      LMSTUDIO_BASE_URL: doomed.baseUrl,
      LMSTUDIO_GUARD_REGISTRY: registry,
    });
    await waitFor(
      async () => {
        const text = await readFile(registry, "utf8").catch(() => "");
        return text.includes('"probing"') ? true : undefined;
      },
      30_000,
      "a probe to start",
    );
    await doomed.close();
    const result = await run.done;
    expect(result.code).toBe(EXIT.unreachable);
    expect(result.stderr).toContain(`error: Cannot reach LM Studio at ${doomed.baseUrl} (ECONNREFUSED)`);
    // chat-b (larger, so second) was never started.
    expect(result.stdout).toMatch(/^chat-a: declared 128k, tested .*\n$/);
    const file = JSON.parse(await readFile(registry, "utf8")) as RegistryFileView;
    for (const entry of Object.values(file.entries)) expect(entry.probing).toBeUndefined();
  }, 90_000);
});
