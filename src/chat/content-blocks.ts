import "@langchain/core/messages";
import { MODEL_PROVIDER } from "./response-parsing.js";

/**
 * Makes `message.contentBlocks` show LM Studio reasoning as a standard `reasoning` block.
 *
 * Core picks a translator by `response_metadata.model_provider` from a registry it keeps on
 * globalThis. Core (through 1.4) exports no way to register a translator, so this is the one place
 * that writes there, defensively. LM Studio's messages have the same
 * shape as DeepSeek's (text content + `additional_kwargs.reasoning_content` + tool calls), so the
 * DeepSeek translator is reused. If core ever moves the registry, `contentBlocks` falls back to
 * text and tool-call blocks and reasoning stays available in `additional_kwargs.reasoning_content`.
 */
export function registerContentBlockTranslator(): void {
  const registry = (globalThis as { lc_block_translators_registry?: unknown }).lc_block_translators_registry;
  if (!(registry instanceof Map) || registry.has(MODEL_PROVIDER)) return;
  const deepseek = registry.get("deepseek");
  if (deepseek) registry.set(MODEL_PROVIDER, deepseek);
}
