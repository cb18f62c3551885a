/**
 * Measure, then guard: `langchain-lmstudio test --all` loads every chat model at chosen sizes and
 * records the context that really works; ChatLMStudio with `contextGuard: true` then keeps every
 * prompt inside that tested context: "truncate-middle" cuts a long document to fit, "error" refuses
 * before anything is sent.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ContextOverflowError } from "@langchain/core/errors";
import type { TestResultLine } from "../../src/cli/commands/test-progress.js";
import { ChatLMStudio } from "../../src/index.js";
import { DEFAULT_MODELS, type SimulatedModelSpec } from "../../src/testing/index.js";
import { lmStudioOrSimulator } from "../lmstudio-or-simulator.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

/**
 * Offline, the simulator plays a model that declares 32k but loses track of facts past ~12k tokens:
 * the case the guard exists for. The embedding model shows `test --all` skips non-chat models.
 */
const SIMULATED_MODELS: SimulatedModelSpec[] = DEFAULT_MODELS.filter(({ vision }) => !vision).map((model) =>
  model.type === "llm" ? { ...model, effectiveContext: 12_000 } : model,
);

/** One line of `test --all --json`: the CLI's own result type. */
export type TestedModel = TestResultLine;

export interface GuardedChatOptions {
  baseUrl?: string;
  log?: (line: string) => void;
}

export interface GuardedChatResult {
  simulated: boolean;
  cliExitCode: number | null;
  tested: TestedModel[];
  model: string;
  shortAnswer: string;
  /** The long document's length in characters, far beyond the tested context. */
  longDocumentChars: number;
  /** Prompt tokens the server processed for the long document after the guard cut its middle out. */
  longPromptTokens: number;
  /** With overflow "error": the refusal, raised before any request. */
  refusal: string;
}

function testAll(baseUrl: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string }> {
  // The CLI exactly as a user runs it (`npx langchain-lmstudio test --all`), from source through tsx.
  // --resume skips models a previous run already tested: against a real LM Studio a full run takes minutes per model.
  const child = spawn(
    process.execPath,
    ["--import", "tsx", CLI, "test", "--all", "--resume", "--json", "--base-url", baseUrl],
    { env, stdio: ["ignore", "pipe", "inherit"] },
  );
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout }));
  });
}

export async function run(options: GuardedChatOptions = {}): Promise<GuardedChatResult> {
  const log = options.log ?? console.log;
  const server = await lmStudioOrSimulator({
    ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {}),
    log,
    simulator: { models: SIMULATED_MODELS },
  });
  // Simulated models must not land in the user's real registry: point the guard (CLI and
  // `contextGuard: true` alike read LMSTUDIO_GUARD_REGISTRY) at a throwaway file for this run.
  const scratch = server.simulated ? await mkdtemp(join(tmpdir(), "guarded-chat-")) : undefined;
  const previousRegistry = process.env.LMSTUDIO_GUARD_REGISTRY;
  if (scratch) process.env.LMSTUDIO_GUARD_REGISTRY = join(scratch, "registry.json");
  try {
    log("$ langchain-lmstudio test --all --resume --json");
    const cli = await testAll(server.baseUrl, { ...process.env, NO_COLOR: "1" });
    const tested = cli.stdout
      .split("\n")
      .filter((line) => line.trim().startsWith("{"))
      .map((line) => JSON.parse(line) as TestedModel);

    const model = server.pick("chat");
    if (!model) throw new Error(`No chat model at ${server.baseUrl}; set LMSTUDIO_MODEL.`);
    const auth = server.apiKey !== undefined ? { apiKey: server.apiKey } : {};
    const chat = new ChatLMStudio(model, {
      baseUrl: server.baseUrl,
      ...auth,
      contextGuard: true,
      overflow: "truncate-middle",
      temperature: 0,
      maxTokens: 200,
    });
    const shortAnswer = (await chat.invoke("In one sentence: what does a context guard do?")).text;

    const longDocument = Array.from(
      { length: 2500 },
      (_, i) => `Line ${i + 1} of the deposition transcript: the witness described the loading ramp again.`,
    ).join("\n");
    const long = await chat.invoke(`Summarise this transcript:\n${longDocument}\nWhat is it about?`);

    const refusal = await chat
      .invoke(`Summarise this transcript:\n${longDocument}`, { overflow: "error" })
      .then(
        () => "",
        (error: unknown) => {
          if (!ContextOverflowError.isInstance(error)) throw error;
          return error.message;
        },
      );
    return {
      simulated: server.simulated,
      cliExitCode: cli.code,
      tested,
      model,
      shortAnswer,
      longDocumentChars: longDocument.length,
      longPromptTokens: long.usage_metadata?.input_tokens ?? 0,
      refusal,
    };
  } finally {
    if (scratch) {
      if (previousRegistry === undefined) delete process.env.LMSTUDIO_GUARD_REGISTRY;
      else process.env.LMSTUDIO_GUARD_REGISTRY = previousRegistry;
      await rm(scratch, { recursive: true, force: true });
    }
    await server.close();
  }
}
