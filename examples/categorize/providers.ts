import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import {
  createChatModel,
  createVisionModel,
  loadConfig,
  type ProviderConfig,
} from "../../src/config/index.js";
import { type ContextGuard, createContextGuard, type ModelLimits } from "../../src/context-guard/index.js";
import { ChatLMStudio, LMStudioUnreachableError } from "../../src/index.js";
import { findModelInfo, listLMStudioModels, loadedContextLength } from "../../src/lmstudio/model-info.js";
import { DEFAULT_MODELS, startSimulator } from "../../src/testing/index.js";

/**
 * The models the pipeline talks to, chosen by LLM_PROVIDER through the library's factories, so one
 * run works on OpenAI, Ollama or LM Studio. With LM Studio selected and nothing answering, the
 * built-in simulator stands in (and the caller is told where LM Studio would have been).
 */

type EnvSource = Record<string, string | undefined>;

/** One model plus the context its prompts must fit in. */
export interface ModelSlot {
  readonly label: string;
  /** The model's name as the provider knows it. */
  readonly name: string;
  readonly model: BaseChatModel;
  /** Input tokens the model accepts; measured once, on first use (it may load the model). */
  contextTokens(): Promise<number>;
}

export interface Providers {
  text: ModelSlot;
  vision: ModelSlot;
  /** One line saying what is used: provider, models, server. */
  description: string;
  /** Set when the simulator replaced an unreachable LM Studio: where LM Studio was expected. */
  simulatedInsteadOf?: string;
  /** How the text model's context was sized: the guard's tested limit, or why not. */
  contextSource: string;
  /** The LM Studio server used, when the provider is LM Studio. */
  lmstudio?: { baseUrl: string; apiKey?: string };
  close(): Promise<void>;
}

/**
 * Where prompt sizes come from. The default reads the context LM Studio loaded the model with; a
 * context-guard-backed sizer (the tested context) can be passed instead once the guard is public.
 */
export type ContextSizer = (model: BaseChatModel, config: ProviderConfig) => Promise<number | undefined>;

export interface ConnectOptions {
  env?: EnvSource;
  /** Answer length reserved in every request. */
  maxOutputTokens: number;
  /** Skip measuring: every prompt is sized to this many tokens. */
  contextTokens?: number;
  contextSizer?: ContextSizer;
  /**
   * Measure the text model's usable context with the context guard when the registry has no result
   * yet. Off by default: on a real LM Studio that is several model loads (use
   * `langchain-lmstudio test <model>` once instead); the simulator demo turns it on.
   */
  testContextFirst?: boolean;
  /**
   * Stand in the built-in simulator when LM Studio does not answer (default true, for the demo).
   * A queue worker turns it off: scripted answers must never land in a shared result store.
   */
  simulatorFallback?: boolean;
}

/** When nothing says otherwise: LM Studio's own default load context, small enough for any local model. */
const FALLBACK_CONTEXT_TOKENS = 4096;
const SIMULATED_TEXT_MODEL = "qwen2.5-7b-instruct";
const SIMULATED_VISION_MODEL = "qwen2-vl-2b-instruct";
/** Where the simulator demo keeps its registry: simulated results never touch the user's real one. */
const SIMULATED_REGISTRY = ".tmp/categorize/context-registry.json";

/**
 * The simulator's catalogue for the demo: the text model declares 32k but recalls only up to about
 * 6k tokens, like many local models, so the guard has something real to find and long documents
 * really need head + tail pages.
 */
const SIMULATED_MODELS = DEFAULT_MODELS.map((model) =>
  model.key === SIMULATED_TEXT_MODEL ? { ...model, effectiveContext: 6144 } : model,
);

async function lmStudioAnswers(config: ProviderConfig): Promise<boolean> {
  try {
    await listLMStudioModels({
      baseUrl: config.lmstudio.baseUrl,
      apiKey: config.lmstudio.apiKey,
      timeoutMs: 1500,
    });
    return true;
  } catch {
    return false;
  }
}

/**
 * The context the model is loaded with. A just-in-time load happens on the first request and may
 * get far less than the declared maximum (LM Studio's default is 4096), so an unloaded model is
 * woken with a one-word request before its loaded context is read back.
 */
export const loadedContextSizer: ContextSizer = async (model, config) => {
  if (!(model instanceof ChatLMStudio)) return model.profile?.maxInputTokens;
  const request = { baseUrl: model.baseUrl, apiKey: config.lmstudio.apiKey };
  const loaded = async () => {
    const info = findModelInfo(await listLMStudioModels(request), model.model);
    return info ? loadedContextLength(info, model.model) : undefined;
  };
  const already = await loaded();
  if (already !== undefined) return already;
  await model.invoke("Reply with OK.");
  return (await loaded()) ?? (await model.init()).profile.maxInputTokens;
};

/**
 * A model's tested limits from the guard's registry, measuring them first when asked. Untested
 * models give undefined: the caller then sizes to the loaded context rather than trusting a
 * declared maximum the model may not handle.
 */
async function testedLimits(
  guard: ContextGuard,
  modelKey: string,
  testFirst: boolean,
): Promise<ModelLimits | undefined> {
  const limits = await guard.limitsFor(modelKey);
  if (limits.source === "tested") return limits;
  if (!testFirst) return undefined;
  await guard.test(modelKey);
  const tested = await guard.limitsFor(modelKey);
  return tested.source === "tested" ? tested : undefined;
}

/** Sizes prompts to the tested limit: the longest prompt verified, plus the answer it leaves room for. */
function guardedSizer(limits: ModelLimits, maxOutputTokens: number): ContextSizer {
  return async () => Math.min(limits.contextLength, limits.promptLimit + maxOutputTokens);
}

function slot(
  label: string,
  model: BaseChatModel,
  config: ProviderConfig,
  options: ConnectOptions,
  sizerOverride?: ContextSizer,
): ModelSlot {
  let measured: Promise<number> | undefined;
  const sizer = options.contextSizer ?? sizerOverride ?? loadedContextSizer;
  return {
    label,
    name: modelName(model),
    model,
    contextTokens() {
      measured ??= (async () =>
        options.contextTokens ??
        config.lmstudio.contextLength ??
        (await sizer(model, config)) ??
        FALLBACK_CONTEXT_TOKENS)();
      return measured;
    },
  };
}

function modelName(model: BaseChatModel): string {
  const named = (model as { model?: unknown }).model;
  return typeof named === "string" && named ? named : model.getName();
}

export async function connectProviders(options: ConnectOptions): Promise<Providers> {
  let env: EnvSource = options.env ?? process.env;
  let config = loadConfig(env);
  let simulatedInsteadOf: string | undefined;
  let closeSimulator = async () => {};
  let testContextFirst = options.testContextFirst ?? false;

  if (config.provider === "lmstudio" && !(await lmStudioAnswers(config))) {
    if (options.simulatorFallback === false) {
      throw new LMStudioUnreachableError(config.lmstudio.baseUrl, "no answer to GET /api/v1/models");
    }
    const simulator = await startSimulator({ loadTimeScale: 0, models: SIMULATED_MODELS });
    simulatedInsteadOf = config.lmstudio.baseUrl;
    closeSimulator = () => simulator.close();
    testContextFirst = true;
    // The simulator has its own catalogue and no token; the user's LM Studio settings do not apply to it.
    env = {
      LLM_PROVIDER: "lmstudio",
      LMSTUDIO_BASE_URL: simulator.baseUrl,
      LMSTUDIO_MODEL: SIMULATED_TEXT_MODEL,
      LMSTUDIO_VISION_MODEL: SIMULATED_VISION_MODEL,
      LMSTUDIO_GUARD_REGISTRY: SIMULATED_REGISTRY,
    };
    config = loadConfig(env);
  }

  // LM Studio: a model with a tested context is loaded at it and every request is clamped to it.
  let guard: ContextGuard | undefined;
  let limits: ModelLimits | undefined;
  let contextSource = "the provider's own limit";
  if (config.provider === "lmstudio") {
    guard = createContextGuard({
      baseUrl: config.lmstudio.baseUrl,
      apiKey: config.lmstudio.apiKey,
      registryPath: config.lmstudio.guardRegistryPath,
      // Untested models are not sized to their declared maximum here, so that warning does not apply.
      onWarning: () => {},
    });
    const key = config.lmstudio.model;
    limits = key ? await testedLimits(guard, key, testContextFirst) : undefined;
    contextSource = limits
      ? `tested context ${limits.contextLength} of declared ${limits.declaredMax} (context guard)`
      : `the loaded context (untested: run \`langchain-lmstudio test ${key ?? "<model>"}\` to measure it)`;
  }
  const close = async () => {
    await guard?.close();
    await closeSimulator();
  };

  const common = { temperature: 0, maxTokens: options.maxOutputTokens };
  const text = await createChatModel(
    limits ? { ...common, lmstudio: { contextGuard: guard, overflow: "error" } } : common,
    env,
  );
  const vision = await createVisionModel(common, env);
  // ChatLMStudio without LMSTUDIO_MODEL picks the first loaded model when asked.
  if (text instanceof ChatLMStudio && !text.model) await text.init();
  if (vision instanceof ChatLMStudio && !vision.model) await vision.init();

  const server = config.provider === "lmstudio" ? ` at ${config.lmstudio.baseUrl}` : "";
  return {
    text: slot("text", text, config, options, limits && guardedSizer(limits, options.maxOutputTokens)),
    vision: slot("vision", vision, config, options),
    description: `${config.provider}${server}: text model ${modelName(text)}, vision model ${modelName(vision)}`,
    simulatedInsteadOf,
    contextSource,
    lmstudio:
      config.provider === "lmstudio"
        ? { baseUrl: config.lmstudio.baseUrl, apiKey: config.lmstudio.apiKey }
        : undefined,
    close,
  };
}
