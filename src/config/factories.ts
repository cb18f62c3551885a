import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { ChatOpenAI, OpenAIEmbeddings } from "@langchain/openai";
import { ChatLMStudio } from "../chat/index.js";
import { LMStudioEmbeddings } from "../embeddings/index.js";
import { loadConfig, type ProviderConfig } from "../env/env.js";
import { importOptionalPeer } from "../lmstudio/optional-peer.js";

/**
 * One switch (LLM_PROVIDER) for apps that run against OpenAI, Ollama or LM Studio. The factories
 * are async because Ollama support is an optional peer dependency loaded on demand: an
 * LM Studio or OpenAI app never needs `@langchain/ollama` installed.
 */

type EnvSource = Record<string, string | undefined>;

/** Settings that mean the same thing for every provider; anything else goes in the per-provider objects. */
export interface ChatModelOverrides {
  model?: string;
  temperature?: number;
  maxTokens?: number;
  streaming?: boolean;
  maxRetries?: number;
  /** Extra constructor fields for ChatLMStudio (used only when LLM_PROVIDER=lmstudio). */
  lmstudio?: Record<string, unknown>;
  /** Extra constructor fields for ChatOpenAI (used only when LLM_PROVIDER=openai). */
  openai?: Record<string, unknown>;
  /** Extra constructor fields for ChatOllama (used only when LLM_PROVIDER=ollama). */
  ollama?: Record<string, unknown>;
}

export interface EmbeddingsOverrides {
  model?: string;
  lmstudio?: Record<string, unknown>;
  openai?: Record<string, unknown>;
  ollama?: Record<string, unknown>;
}

const importOllama = () =>
  importOptionalPeer("@langchain/ollama", "LLM_PROVIDER=ollama", () => import("@langchain/ollama"));

function definedOnly<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function commonChatFields(overrides: ChatModelOverrides) {
  return definedOnly({
    temperature: overrides.temperature,
    maxTokens: overrides.maxTokens,
    streaming: overrides.streaming,
    maxRetries: overrides.maxRetries,
  });
}

function lmStudioChat(
  config: ProviderConfig,
  model: string | undefined,
  overrides: ChatModelOverrides,
): ChatLMStudio {
  return new ChatLMStudio({
    settings: config.lmstudio,
    ...definedOnly({ model }),
    ...commonChatFields(overrides),
    ...overrides.lmstudio,
  });
}

function openAIChat(
  config: ProviderConfig,
  model: string | undefined,
  overrides: ChatModelOverrides,
): ChatOpenAI {
  return new ChatOpenAI({
    ...definedOnly({ model, apiKey: config.openai.apiKey }),
    ...(config.openai.baseUrl ? { configuration: { baseURL: config.openai.baseUrl } } : {}),
    ...commonChatFields(overrides),
    ...overrides.openai,
  });
}

async function ollamaChat(
  config: ProviderConfig,
  model: string | undefined,
  overrides: ChatModelOverrides,
): Promise<BaseChatModel> {
  const { ChatOllama } = await importOllama();
  const { maxTokens, ...common } = commonChatFields(overrides);
  return new ChatOllama({
    baseUrl: config.ollama.baseUrl,
    ...definedOnly({ model, numPredict: maxTokens }),
    ...common,
    ...overrides.ollama,
  });
}

/** The chat model of the configured provider, for a model name already chosen. */
function providerChat(
  config: ProviderConfig,
  model: string | undefined,
  overrides: ChatModelOverrides,
): BaseChatModel | Promise<BaseChatModel> {
  switch (config.provider) {
    case "openai":
      return openAIChat(config, model, overrides);
    case "ollama":
      return ollamaChat(config, model, overrides);
    case "lmstudio":
      return lmStudioChat(config, model, overrides);
  }
}

/**
 * The chat model LLM_PROVIDER selects (default lmstudio), configured from the environment.
 * Throws `InvalidEnvironmentError` listing every bad variable.
 */
export async function createChatModel(
  overrides: ChatModelOverrides = {},
  env?: EnvSource,
): Promise<BaseChatModel> {
  const config = loadConfig(env);
  return providerChat(config, overrides.model ?? config[config.provider].model, overrides);
}

/** A chat model for images: the provider's *_VISION_MODEL, falling back to its chat model. */
export async function createVisionModel(
  overrides: ChatModelOverrides = {},
  env?: EnvSource,
): Promise<BaseChatModel> {
  const config = loadConfig(env);
  const settings = config[config.provider];
  return providerChat(config, overrides.model ?? settings.visionModel ?? settings.model, overrides);
}

/** The embeddings LLM_PROVIDER selects, configured from the environment. */
export async function createEmbeddings(
  overrides: EmbeddingsOverrides = {},
  env?: EnvSource,
): Promise<EmbeddingsInterface> {
  const config = loadConfig(env);
  switch (config.provider) {
    case "openai":
      return new OpenAIEmbeddings({
        ...definedOnly({
          model: overrides.model ?? config.openai.embeddingModel,
          apiKey: config.openai.apiKey,
        }),
        ...(config.openai.baseUrl ? { configuration: { baseURL: config.openai.baseUrl } } : {}),
        // Without it the openai SDK asks for base64, which OpenAI-compatible servers often ignore,
        // and decodes float arrays as base64 into garbage (langchainjs #8221).
        encodingFormat: "float",
        ...overrides.openai,
      });
    case "ollama": {
      const { OllamaEmbeddings } = await importOllama();
      return new OllamaEmbeddings({
        baseUrl: config.ollama.baseUrl,
        ...definedOnly({ model: overrides.model ?? config.ollama.embeddingModel }),
        ...overrides.ollama,
      });
    }
    case "lmstudio":
      return new LMStudioEmbeddings({
        settings: config.lmstudio,
        ...definedOnly({ model: overrides.model }),
        ...overrides.lmstudio,
      });
  }
}
