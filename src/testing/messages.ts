import type { LMStudioVersionDialect } from "./types.js";

/** LM Studio's exact error texts (reference §1.7 and §8). */

export const JSON_OBJECT_REJECTED = "'response_format.type' must be 'json_schema' or 'text'";
export const OBJECT_TOOL_CHOICE_REJECTED =
  "Invalid tool_choice type: 'object'. Supported string values: none, auto, required";
export const IMAGE_NOT_BASE64 = "'url' field must be a base64 encoded image";
export const MODEL_NOT_VLM = "Model does not support images. Please use a model that does.";
export const EMBEDDING_INPUT_INVALID = "'input' field must be a string or an array of strings";
export const NO_MODELS_LOADED =
  "No models loaded. Please load a model in the developer page or use the 'lms load' command.";
export const MODEL_CRASHED =
  "The model has crashed without additional information. (Exit code: 18446744072635812000)";
export const MLX_CONTEXT_EXCEEDED = "Context size has been exceeded.";

export function invalidModelIdentifier(model: string, available: readonly string[]): string {
  return `Invalid model identifier "${model}". Please specify a valid downloaded model (e.g., ${available.join(", ")}).`;
}

export function notEmbeddingModel(model: string): string {
  return `Failed to load model "${model}". Error: Model is not embedding.`;
}

/** The reverse case is not documented; by analogy with "Model is not embedding." (reference §1.5). */
export function notLlmModel(model: string): string {
  return `Failed to load model "${model}". Error: Model is not llm.`;
}

export function guardrailRefusal(bytes: number): string {
  const gb = (bytes / 1024 ** 3).toFixed(2);
  return `Model loading was stopped due to insufficient system resources. Under the current settings, this model requires approximately ${gb} GB of memory, and continuing to load it would likely overload your system and cause it to freeze. If you think this is incorrect, you can adjust the model loading guardrails in settings.`;
}

/** The overflow text for a dialect; 0.4.21's is also what it streams in its `event: error` frame. */
export function overflowMessage(
  dialect: LMStudioVersionDialect,
  promptTokens: number,
  contextLength: number,
): string {
  switch (dialect) {
    case "0.3.x":
      return `<LM Studio error> Trying to keep the first ${promptTokens} tokens when context the overflows. However, the model is loaded with context length of only ${contextLength} tokens, which is not enough. Try to load the model with a larger context length, or provide a shorter input. Error Data: n/a, Additional Data: n/a`;
    case "0.4.x":
      return `The number of tokens to keep from the initial prompt is greater than the context length (n_keep: ${promptTokens}>= n_ctx: ${contextLength}). Try to load the model with a larger context length, or provide a shorter input.`;
    case "0.4.21":
      return `Input does not fit in context length. The input has ${promptTokens} tokens, but the context length only supports ${contextLength} tokens.`;
    case "mlx":
      return MLX_CONTEXT_EXCEEDED;
  }
}
