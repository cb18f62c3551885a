import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * A categorization queue worker (examples/categorize/worker.ts) in its own process, as it runs on
 * another machine: its own LM Studio (here a simulator), its own guard registry. Used by the
 * distributed tests and the scaling benchmark.
 */

const WORKER = fileURLToPath(new URL("../examples/categorize/worker.ts", import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** SIGTERM (finish the jobs in flight, then exit) and wait for the exit. */
  stop(): Promise<void>;
}

export interface WorkerProcessOptions {
  id: string;
  redisUrl: string;
  /** The worker's LMSTUDIO_BASE_URL. */
  baseUrl: string;
  registryPath: string;
  queue?: string;
  concurrency?: number;
  lockSeconds?: number;
}

/** Resolves once the worker has joined the queue. */
export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const args = [
    "--redis",
    options.redisUrl,
    "--id",
    options.id,
    "--concurrency",
    String(options.concurrency ?? 2),
  ];
  if (options.queue) args.push("--queue", options.queue);
  if (options.lockSeconds) args.push("--lock-seconds", String(options.lockSeconds));
  const child = spawn(process.execPath, ["--import", "tsx", WORKER, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      LLM_PROVIDER: "lmstudio",
      LMSTUDIO_BASE_URL: options.baseUrl,
      LMSTUDIO_MODEL: "qwen2.5-7b-instruct",
      LMSTUDIO_VISION_MODEL: "qwen2-vl-2b-instruct",
      LMSTUDIO_GUARD_REGISTRY: options.registryPath,
    },
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (output.includes(`Worker ${options.id}:`)) {
        clearInterval(timer);
        resolve();
      } else if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`worker ${options.id} exited (${child.exitCode}):\n${output}`));
      }
    }, 100);
  });
  return {
    child,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
