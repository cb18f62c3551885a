/**
 * A simulator process whose chat completions each take PREDICTION_MS (argv[2]), like a host busy
 * generating: the scaling benchmark's stand-in for LM Studio on another machine, where the time is
 * spent on the host and the worker only waits. Prints the same banner line as `simulate`.
 */
import { startSimulator } from "../src/testing/index.js";

const predictionMs = Number(process.argv[2] ?? 250);
const simulator = await startSimulator({ port: 0, loadTimeScale: 0 });
simulator.injectFault({
  kind: "latency",
  ms: predictionMs,
  path: "/v1/chat/completions",
  times: Number.POSITIVE_INFINITY,
});
console.log(`OpenAI-compatible API:  ${simulator.baseUrl}`);
const stop = () => void simulator.close().then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
