/**
 * Child process of allocation-search.test.ts: a llama.cpp-backed simulator under this process's
 * data-size limit (RLIMIT_DATA, set by the parent with `ulimit -d`), probed with the context guard's
 * L0 probe (a real load through the SDK API) at each context size read from stdin.
 *
 * A separate process because llama.cpp aborts its process when a small allocation fails right after a
 * large one succeeded (GGML_ASSERT): the parent sees that as a crash, like LM Studio's engine crashing,
 * and starts a fresh child. Refuses to run without a data limit of at most 4 GiB: every probe really allocates its KV cache.
 */
import { readFileSync } from "node:fs";
import { seededRandom } from "../../src/context-guard/haystack.js";
import { SdkModelHost } from "../../src/context-guard/index.js";
import { DEFAULT_PROBE_SETTINGS, loadLevel } from "../../src/context-guard/probe.js";
import { startSimulator } from "../../src/testing/index.js";

process.env.LMS_NO_FANCY_ERRORS = "1";

const MAX_DATA_LIMIT_BYTES = 4 * 1024 ** 3;

function dataLimitBytes(): number | undefined {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max data size"));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === undefined || soft === "unlimited" ? undefined : Number(soft);
}

const limit = dataLimitBytes();
if (limit === undefined || limit > MAX_DATA_LIMIT_BYTES) {
  console.error(`refusing to probe without a data limit ≤ 4 GiB (ulimit -d); got ${limit ?? "unlimited"}`);
  process.exit(2);
}
const [, , ggufPath, declaredArg] = process.argv;
const sim = await startSimulator({
  backend: "llama.cpp",
  loadTimeScale: 0,
  models: [{ key: "tiny-llama-deep", type: "llm", maxContextLength: Number(declaredArg), gguf: ggufPath! }],
});
const host = new SdkModelHost({ baseUrl: sim.baseUrl });
const settings = { ...DEFAULT_PROBE_SETTINGS, random: seededRandom(1) };

async function probe(contextLength: number): Promise<Record<string, unknown>> {
  const identifier = `alloc-${contextLength}`;
  const result = await loadLevel(host, "tiny-llama-deep", contextLength, identifier, settings);
  const loaded = sim.loaded().map((i) => i.contextLength);
  if (result.L0.passed) await host.unload({ identifier, type: "llm" });
  return {
    contextLength,
    passed: result.L0.passed,
    loaded,
    ...(result.failureKind !== undefined ? { failureKind: result.failureKind } : {}),
    ...(result.L0.detail !== undefined ? { detail: result.L0.detail } : {}),
  };
}

// One context size per stdin line, one JSON result per stdout line; stdin closing ends the process.
console.log(JSON.stringify({ ready: true }));
let queue = Promise.resolve();
process.stdin.setEncoding("utf8");
let buffered = "";
process.stdin.on("data", (chunk: string) => {
  buffered += chunk;
  const lines = buffered.split("\n");
  buffered = lines.pop() ?? "";
  for (const line of lines.filter((l) => l.trim() !== "")) {
    queue = queue.then(async () => console.log(JSON.stringify(await probe(Number(line)))));
  }
});
process.stdin.on("end", () => {
  void queue.then(async () => {
    await host.close();
    await sim.close();
  });
});
