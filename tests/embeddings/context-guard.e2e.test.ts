import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { LMStudioEmbeddings, LMStudioInputTooLongError } from "../../src/index.js";
import { countSimulatorTokens, type RunningSimulator, startSimulator } from "../../src/testing/index.js";

/** `contextGuard: true`: the real guard for the same server decides the context and counts tokens. */

const MODEL = "small-embedder";
const DECLARED = 512;

let sim: RunningSimulator;
let registryDir: string;

beforeAll(async () => {
  registryDir = mkdtempSync(join(tmpdir(), "embeddings-guard-"));
  // Keep the guard's registry out of the user's LM Studio home.
  vi.stubEnv("LMSTUDIO_GUARD_REGISTRY", join(registryDir, "registry.json"));
  sim = await startSimulator({
    port: 0,
    loadTimeScale: 0,
    models: [{ key: MODEL, type: "embedding", maxContextLength: DECLARED, embeddingDimensions: 32 }],
  });
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await sim?.close();
  rmSync(registryDir, { recursive: true, force: true });
});
afterEach(() => {
  sim.requests.length = 0;
});

const embeddingBodies = () =>
  sim.requests
    .filter((request) => request.method === "POST" && request.path === "/v1/embeddings")
    .map((request) => request.body as { model: string; input: string[] });

describe("LMStudioEmbeddings with contextGuard: true", () => {
  const long = "many words in a row ".repeat(200);

  it("embeds through the instance the guard loaded", async () => {
    const embeddings = new LMStudioEmbeddings({ model: MODEL, baseUrl: sim.baseUrl, contextGuard: true });
    const [vector] = await embeddings.embedDocuments(["hello there"]);
    expect(vector).toHaveLength(32);
    const loaded = sim.loaded().filter((instance) => instance.modelKey === MODEL);
    expect(loaded.map((instance) => instance.identifier)).toContain(embeddingBodies()[0]!.model);
  });

  it("refuses an input over the guard's context with the tokenizer's count", async () => {
    const embeddings = new LMStudioEmbeddings({ model: MODEL, baseUrl: sim.baseUrl, contextGuard: true });
    const error = await embeddings.embedDocuments(["short", long]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioInputTooLongError);
    expect(error).toMatchObject({ inputIndex: 1, tokenCount: countSimulatorTokens(long) });
    expect((error as LMStudioInputTooLongError).contextLength).toBeLessThanOrEqual(DECLARED);
    expect(embeddingBodies()).toHaveLength(0);
  });
});
