export { ChatLMStudio } from "./chat-model.js";
export { ANY_JSON_OBJECT_SCHEMA, type LMStudioCompletionParams } from "./request-shaping.js";
export type { StructuredOutputMethod } from "./structured-output.js";
export { splitThinkTags, ThinkTagSplitter } from "./think-tag-splitter.js";
export type { ChatLMStudioCallOptions, ChatLMStudioFields, LMStudioSamplingOptions } from "./types.js";
