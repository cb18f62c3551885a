import { AIMessageChunk } from "@langchain/core/messages";
import { ChatGenerationChunk } from "@langchain/core/outputs";
import type { OpenAIClient } from "@langchain/openai";
import { LMStudioEmptyResponseError } from "../lmstudio/errors.js";
import { MODEL_PROVIDER, usageChunk } from "./response-parsing.js";
import { ThinkTagSplitter } from "./think-tag-splitter.js";

/**
 * Turns the chunks ChatOpenAICompletions streams (one per server delta) into LM Studio's: inline
 * `<think>` reasoning moved to `reasoning_content`, deltas that carry nothing dropped, the model name
 * on exactly one chunk (metadata strings concatenate when chunks merge), and LM Studio's metadata.
 */
export class LMStudioStreamShaper {
  private readonly splitter: ThinkTagSplitter;
  private sawOutput = false;
  private sentModel = false;
  private responseId: string | undefined;
  private usage: OpenAIClient.CompletionUsage | undefined;

  /** `requestModel` names the model in errors and in the usage chunk when no delta named it. */
  constructor(
    private readonly requestModel: string,
    templateOpensThink: boolean,
  ) {
    this.splitter = new ThinkTagSplitter({ startsInsideThink: templateOpensThink });
  }

  /** One chunk from the parent: the LM Studio chunk to pass on, or undefined when it carries nothing. */
  push(parentChunk: ChatGenerationChunk): ChatGenerationChunk | undefined {
    const message = parentChunk.message;
    if (!AIMessageChunk.isInstance(message) || typeof message.content !== "string") return undefined;
    // The parent ends with a usage-only chunk; it is rebuilt in `finish`, after the held-back text.
    if (message.usage_metadata) {
      this.usage = message.response_metadata.usage as OpenAIClient.CompletionUsage | undefined;
      return undefined;
    }
    this.responseId ??= message.id;
    const info = parentChunk.generationInfo ?? {};
    const split = this.splitter.push(message.content);
    const separate = message.additional_kwargs.reasoning_content;
    const reasoning = [separate, split.reasoning]
      .filter((part): part is string => typeof part === "string" && part.length > 0)
      .join("");
    const hasToolCalls = (message.tool_call_chunks?.length ?? 0) > 0;
    const finishReason = info.finish_reason;
    if (!split.content && !reasoning && !hasToolCalls && finishReason == null) return undefined;
    this.sawOutput = true;

    const additional_kwargs = { ...message.additional_kwargs };
    delete additional_kwargs.reasoning_content;
    if (reasoning) additional_kwargs.reasoning_content = reasoning;
    const response_metadata: Record<string, unknown> = { model_provider: MODEL_PROVIDER };
    // The parent reports the served model on the finishing delta.
    if (!this.sentModel && typeof info.model_name === "string" && info.model_name) {
      response_metadata.model = info.model_name;
      response_metadata.model_name = info.model_name;
      this.sentModel = true;
    }
    const generationInfo: Record<string, unknown> = {};
    if (finishReason != null) {
      generationInfo.finish_reason = finishReason;
      if (info.system_fingerprint) generationInfo.system_fingerprint = info.system_fingerprint;
    }
    return new ChatGenerationChunk({
      message: new AIMessageChunk({
        content: split.content,
        id: message.id,
        tool_call_chunks: message.tool_call_chunks,
        additional_kwargs,
        response_metadata,
      }),
      text: split.content,
      generationInfo,
    });
  }

  /** After the last chunk: held-back text, then usage. Throws when the stream carried nothing. */
  finish(): ChatGenerationChunk[] {
    const chunks: ChatGenerationChunk[] = [];
    const tail = this.splitter.flush();
    if (tail.content || tail.reasoning) {
      this.sawOutput = true;
      chunks.push(
        new ChatGenerationChunk({
          message: new AIMessageChunk({
            content: tail.content,
            id: this.responseId,
            additional_kwargs: tail.reasoning ? { reasoning_content: tail.reasoning } : {},
            response_metadata: { model_provider: MODEL_PROVIDER },
          }),
          text: tail.content,
        }),
      );
    }
    if (!this.sawOutput) throw new LMStudioEmptyResponseError(this.requestModel);
    if (this.usage) {
      chunks.push(
        new ChatGenerationChunk({
          message: usageChunk(this.usage, this.sentModel ? undefined : this.requestModel),
          text: "",
        }),
      );
    }
    return chunks;
  }
}
