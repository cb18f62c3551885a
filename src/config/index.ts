/** langchain-lmstudio/config: the validated environment and the LLM_PROVIDER factories. */

export { DotEnvFileError, loadDotEnv } from "../env/dotenv.js";
export {
  environmentSchema,
  InvalidEnvironmentError,
  LMSTUDIO_DEFAULT_BASE_URL,
  type LMStudioSettings,
  lmStudioSettings,
  loadConfig,
  OLLAMA_DEFAULT_BASE_URL,
  type Provider,
  type ProviderConfig,
} from "../env/env.js";
export {
  type ChatModelOverrides,
  createChatModel,
  createEmbeddings,
  createVisionModel,
  type EmbeddingsOverrides,
} from "./factories.js";
