import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * The simulator in its own process (`langchain-lmstudio simulate --port 0`), so the server's work
 * does not share the client's event loop: a timing then measures the client as it would run against
 * a real LM Studio on loopback.
 */

const CLI = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));

export interface SimulatorProcess {
  baseUrl: string;
  pid: number;
  stop(): Promise<void>;
}

export function startSimulatorProcess(): Promise<SimulatorProcess> {
  return startSimulatorScript(CLI, ["simulate", "--port", "0"]);
}

/**
 * Runs `script` (through tsx) in its own process and waits, at most 30 s, for the line naming its
 * OpenAI-compatible URL, as `simulate` prints it.
 */
export async function startSimulatorScript(script: string, args: string[]): Promise<SimulatorProcess> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`the simulator did not start:\n${output}`)), 30_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /OpenAI-compatible API:\s+(\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => reject(new Error(`the simulator exited (${code}):\n${output}`)));
  });
  return {
    baseUrl,
    pid: child.pid ?? -1,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
