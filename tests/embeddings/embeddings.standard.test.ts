import { afterAll, beforeAll } from "vitest";
import { LMStudioEmbeddings } from "../../src/index.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { runEmbeddingsIntegrationTests } from "./standard-suite.js";

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, loadTimeScale: 0 });
});
afterAll(() => sim.close());

runEmbeddingsIntegrationTests(
  "LMStudioEmbeddings",
  () => new LMStudioEmbeddings({ model: "text-embedding-nomic-embed-text-v1.5", baseUrl: sim.baseUrl }),
);
