import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { CLI_MAIN, waitFor } from "./cli-harness.js";

/**
 * `test --all` on a real terminal: the CLI runs in a tmux pseudo-terminal (stdout and stderr are
 * TTYs, so the progress bars are drawn), and the assertions are on the final screen as a user sees it.
 * Needs tmux (CI installs it).
 */

const socket = `lmstudio-cli-test-${process.pid}`;
const tmux = (...args: string[]) =>
  execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
let sim: RunningSimulator;
let dir: string;

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, "'\\''")}'`;
}

/** Runs the CLI in a new tmux session of the given size and returns the screen once it has exited. */
async function screenAfter(args: string[], size: { width: number; height: number }): Promise<string> {
  const env = {
    LMSTUDIO_BASE_URL: sim.baseUrl,
    LMSTUDIO_GUARD_REGISTRY: join(dir, "registry.json"),
    TERM: "xterm-256color",
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? dir,
  };
  const command = [
    "env",
    "-i",
    ...Object.entries(env).map(([k, v]) => shellQuote(`${k}=${v}`)),
    shellQuote(process.execPath),
    "--import",
    "tsx",
    shellQuote(CLI_MAIN),
    ...args.map(shellQuote),
  ].join(" ");
  const session = `run-${Date.now()}`;
  tmux(
    "new-session",
    "-d",
    "-s",
    session,
    "-x",
    String(size.width),
    "-y",
    String(size.height),
    "-c",
    join(CLI_MAIN, "..", "..", ".."),
    `${command}; echo "__EXIT=$?__"; sleep 120`,
  );
  try {
    return await waitFor(
      () => {
        const screen = tmux("capture-pane", "-p", "-t", session);
        return screen.includes("__EXIT=") ? screen : undefined;
      },
      120_000,
      "the CLI to finish in tmux",
    );
  } finally {
    tmux("kill-session", "-t", session);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cli-tty-"));
  sim = await startSimulator({
    port: 0,
    // Real (scaled) load times, so the bars are drawn while probes run.
    loadTimeScale: 0.5,
    models: [
      { key: "chat-small", type: "llm", maxContextLength: 8192, loadTimeMs: 400 },
      { key: "chat-liar", type: "llm", maxContextLength: 131072, effectiveContext: 20_000, loadTimeMs: 400 },
      { key: "chat-heavy", type: "llm", maxContextLength: 65536, loadLimit: 30_000, loadTimeMs: 400 },
      { key: "embedder", type: "embedding", maxContextLength: 2048 },
    ],
  });
});
afterAll(async () => {
  try {
    tmux("kill-server");
  } catch {
    // No session left, so the server has already exited.
  }
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("test --all in a terminal", () => {
  it("ends with every bar complete, no {placeholders}, and one result line per model", async () => {
    const screen = await screenAfter(["test", "--all"], { width: 120, height: 30 });
    const lines = screen.split("\n").map((l) => l.trimEnd());
    expect(screen).toContain("__EXIT=0__");
    expect(screen).not.toMatch(/\{[a-z_]+\}/);
    // Result lines, in test order (smallest first).
    const results = lines.filter((l) => /^chat-\w+: declared /.test(l));
    expect(results).toHaveLength(3);
    expect(results.find((l) => l.startsWith("chat-small:"))).toMatch(
      /^chat-small: declared 8k, tested 8k \(tested, \d+ loads?\)$/,
    );
    expect(results.find((l) => l.startsWith("chat-liar:"))).toMatch(
      /^chat-liar: declared 128k, tested \d+k? \(tested, limit: [\w-]+, \d+ loads\)$/,
    );
    expect(results.find((l) => l.startsWith("chat-heavy:"))).toMatch(/^chat-heavy: declared 64k, tested /);
    // --all tests the embedding model too, with its own result line.
    expect(lines.filter((l) => /^embedder: declared 2k, tested /.test(l))).toHaveLength(1);
    // Every bar on screen is full; the run's bar says 4/4 and the ETA is resolved.
    const bars = lines.filter((l) => /[█░]/.test(l));
    expect(bars.length).toBeGreaterThan(0);
    for (const bar of bars) expect(bar).not.toContain("░");
    expect(bars.at(-1)).toMatch(/^█+ 4\/4 models elapsed \d+s · ETA done$/);
  }, 180_000);

  it("a narrow terminal keeps each bar on one line", async () => {
    const screen = await screenAfter(["test", "chat-small"], { width: 60, height: 20 });
    expect(screen).toContain("__EXIT=0__");
    const lines = screen.split("\n").map((l) => l.trimEnd());
    expect(
      lines.filter((l) => /^chat-small: declared 8k, tested 8k \(tested, \d+ loads?\)$/.test(l)),
    ).toHaveLength(1);
    for (const line of lines.filter((l) => /[█░]/.test(l))) expect(line.length).toBeLessThanOrEqual(60);
  }, 120_000);
});
