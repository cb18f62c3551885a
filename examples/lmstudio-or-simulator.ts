/**
 * What every example starts with: LM Studio at LMSTUDIO_BASE_URL when it answers, otherwise the
 * built-in simulator, and one line saying which. The simulator's answers are scripted, so an example
 * that runs on it shows the plumbing, not a model's judgement; the message says that too.
 */
import { lmStudioSettings } from "../src/config/index.js";
import { type LMStudioModelInfo, listLMStudioModels } from "../src/lmstudio/model-info.js";
import { type SimulatorOptions, startSimulator } from "../src/testing/index.js";

export interface ServerChoice {
  /** OpenAI-compatible base URL (…/v1) of whichever server is in use. */
  baseUrl: string;
  apiKey?: string;
  /** True when the simulator stands in for an LM Studio that did not answer. */
  simulated: boolean;
  /** Every model the server knows, as its REST API lists them. */
  models: LMStudioModelInfo[];
  /** The first model of a kind, unless the environment names one (LMSTUDIO_MODEL and friends). */
  pick(kind: "chat" | "vision" | "embedding"): string | undefined;
  /** Stops the simulator if one was started; a real LM Studio is left alone. */
  close(): Promise<void>;
}

export interface ServerChoiceOptions {
  /** Where LM Studio is expected (default LMSTUDIO_BASE_URL, else http://localhost:1234/v1). */
  baseUrl?: string;
  /** Options for the simulator when it has to stand in. */
  simulator?: SimulatorOptions;
  /** Where the "which server" line goes (default console.log; pass () => {} to stay quiet). */
  log?: (line: string) => void;
}

export async function lmStudioOrSimulator(options: ServerChoiceOptions = {}): Promise<ServerChoice> {
  const settings = lmStudioSettings();
  const expected = options.baseUrl ?? settings.baseUrl;
  const log = options.log ?? console.log;
  const real = await listLMStudioModels({
    baseUrl: expected,
    apiKey: settings.apiKey,
    timeoutMs: 1500,
  }).catch(() => undefined);
  if (real) {
    log(`Using LM Studio at ${expected}.`);
    return choice(expected, settings.apiKey, false, real, async () => undefined);
  }
  const simulator = await startSimulator({ loadTimeScale: 0, ...options.simulator });
  log(
    `No LM Studio answered at ${expected}, so this example uses the built-in simulator at ${simulator.baseUrl}.\n` +
      "Its answers are scripted (echoes, tool calls, schema-valid JSON), not a real model's. " +
      "Start LM Studio's server (`lms server start`) or set LMSTUDIO_BASE_URL to use a real one.",
  );
  const models = await listLMStudioModels({ baseUrl: simulator.baseUrl });
  return choice(simulator.baseUrl, undefined, true, models, simulator.close);
}

function choice(
  baseUrl: string,
  apiKey: string | undefined,
  simulated: boolean,
  models: LMStudioModelInfo[],
  close: () => Promise<void>,
): ServerChoice {
  // The environment's choices only apply to the server they were made for, not to the simulator.
  const settings = simulated ? undefined : lmStudioSettings();
  const named = { chat: settings?.model, vision: settings?.visionModel, embedding: settings?.embeddingModel };
  return {
    baseUrl,
    ...(apiKey !== undefined ? { apiKey } : {}),
    simulated,
    models,
    pick(kind) {
      const llms = models.filter((info) => info.type === "llm");
      const found =
        kind === "embedding"
          ? models.find((info) => info.type === "embedding")
          : kind === "vision"
            ? llms.find((info) => info.vision)
            : // A text-only model is the better chat default; a VLM chats too when it is all there is.
              (llms.find((info) => !info.vision) ?? llms[0]);
      return named[kind] ?? found?.key;
    },
    close,
  };
}
