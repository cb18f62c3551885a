/**
 * `npm run bench`: every benchmark against the simulator on loopback, ratios measured in one run.
 *   npm run bench -- [--only import,chat,embeddings,context,categorize,distributed,concurrency] [--quick]
 * Not part of `npm test`; nothing here asserts a time.
 */
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { benchCategorize } from "./categorize.js";
import { benchDistributedScaling, benchModelGrouping } from "./categorize-distributed.js";
import { benchChat } from "./chat.js";
import { benchConcurrency } from "./concurrency.js";
import { benchContextSearch } from "./context-search.js";
import { benchEmbeddings } from "./embeddings.js";
import { benchImportCost } from "./import-cost.js";
import { benchSearchPrefill } from "./search-prefill.js";
import { startSimulatorProcess } from "./simulator-process.js";

const { values } = parseArgs({
  options: { only: { type: "string" }, quick: { type: "boolean", default: false } },
});
const ALL = ["import", "chat", "embeddings", "context", "categorize", "distributed", "concurrency"] as const;
const selected = new Set(values.only ? values.only.split(",") : ALL);
const quick = values.quick;

const cpu = cpus();
console.log(
  `node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
    `${new Date().toISOString()}${quick ? ", --quick" : ""}\n`,
);

const started = performance.now();
// Before the simulator starts, so its process does not compete with the children being timed.
if (selected.has("import")) console.log(`${await benchImportCost(quick ? 3 : 21)}\n`);
const sim = await startSimulatorProcess();
console.log(`simulator in its own process (pid ${sim.pid}) at ${sim.baseUrl}\n`);
try {
  if (selected.has("chat")) {
    const rounds = quick
      ? { rounds: 2, time: 300, iterations: 10 }
      : { rounds: 5, time: 1500, iterations: 50, warmupIterations: 20 };
    console.log(`${await benchChat(sim.baseUrl, rounds, quick ? 50 : 300)}\n`);
  }
  if (selected.has("embeddings")) {
    console.log(
      `${await benchEmbeddings(sim.baseUrl, { rounds: quick ? 1 : 5, time: 0, iterations: 1, warmupIterations: 1 })}\n`,
    );
  }
  if (selected.has("categorize")) console.log(`${await benchCategorize(sim.baseUrl, quick ? 1 : 5)}\n`);
} finally {
  await sim.stop();
}
// The context search runs its own in-process simulator with the 32-model population and instant loads.
if (selected.has("context")) {
  console.log(`${await benchContextSearch()}\n`);
  console.log(`${await benchSearchPrefill()}\n`);
}
// In-process too: the simulator paces predictions so that concurrent ones overlap.
if (selected.has("concurrency")) console.log(`${await benchConcurrency()}\n`);
// Its own redis-server and two simulator processes, one per worker.
if (selected.has("distributed")) {
  console.log(`${await benchDistributedScaling(quick ? 1 : 3, quick ? 60 : 200, 0)}\n`);
  console.log(`${await benchDistributedScaling(quick ? 1 : 3, quick ? 30 : 80, 250)}\n`);
  console.log(`${await benchModelGrouping()}\n`);
}
console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
