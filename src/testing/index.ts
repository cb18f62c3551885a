/** langchain-lmstudio/testing: a faithful fake LM Studio for tests and CI. */

export { DEFAULT_MODELS } from "./catalog.js";
export { applySimulatorChatTemplate, type ChatTurn, type ToolDefinition } from "./chat-template.js";
export {
  buildTinyLlamaGguf,
  encodeGguf,
  type GgufTensor,
  type GgufValue,
  renderTinyChat,
  TINY_ANSWER,
  TINY_CHAT_TEMPLATE,
  type TinyLlamaOptions,
  tinyTokenize,
  writeTinyLlamaGguf,
} from "./gguf-writer.js";
export { startSimulator } from "./server.js";
export { countSimulatorTokens, simulatorTokenize } from "./tokenizer.js";
export type {
  Fault,
  KvCacheView,
  LMStudioVersionDialect,
  LoadedInstanceView,
  RecordedRequest,
  RunningSimulator,
  SimulatedModelSpec,
  SimulatorOptions,
} from "./types.js";
