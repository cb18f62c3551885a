import type { ModelProfile } from "@langchain/core/language_models/profile";
import { isGuardInstanceId } from "../lmstudio/guard-instances.js";
import { findModelInfo, type LMStudioModelInfo, loadedContextLength } from "../lmstudio/model-info.js";

/**
 * The synchronous `profile` LangChain reads (createAgent picks its structured-output strategy from
 * `structuredOutput`; summarization middleware sizes itself from `maxInputTokens`), built from what
 * the server reports for one model. Unknown models give an empty profile, as ChatOpenAI does.
 */
export function profileFromModelInfo(models: LMStudioModelInfo[], model: string): ModelProfile {
  const info = findModelInfo(models, model);
  if (info?.type !== "llm") return {};
  // The loaded context, not the declared maximum: LM Studio often loads far less (lmstudio-api.md §0.6).
  const maxInputTokens = loadedContextLength(info, model) ?? info.maxContextLength;
  return {
    ...(maxInputTokens !== undefined ? { maxInputTokens } : {}),
    imageInputs: info.vision,
    // LM Studio does not fetch http(s) image URLs; only base64 data URLs work.
    imageUrlInputs: false,
    toolCalling: info.toolUse,
    // Only the string forms of tool_choice; ChatLMStudio maps a named choice to "required".
    toolChoice: info.toolUse,
    // json_schema is enforced by the engine's grammar for every LLM.
    structuredOutput: true,
  };
}

/**
 * The model to use when none was named: the first loaded LLM instance, else undefined. The context
 * guard's own instances (`…@guard-N`) are never picked; a model loaded only by the guard is named by
 * its key, so the guard (if enabled) keeps managing its instance.
 */
export function firstLoadedLLM(models: LMStudioModelInfo[]): string | undefined {
  const llms = models.filter((info) => info.type === "llm");
  for (const info of llms) {
    const own = info.loadedInstances.find((instance) => !isGuardInstanceId(instance.id));
    if (own) return own.id;
  }
  return llms.find((info) => info.loadedInstances.length > 0)?.key;
}
