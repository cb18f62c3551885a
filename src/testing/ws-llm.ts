import type { ChatTurn, ToolDefinition } from "./chat-template.js";
import { contentFragments, streamPieces } from "./completion-payloads.js";
import type { GenerationResult } from "./generation.js";
import { isRecord } from "./http-util.js";
import { flattenKvStack, readKvStack } from "./kv-config.js";
import { generateInSlot } from "./pooled-generation.js";
import { sdkHistoryToTurns, sdkToolsToDefinitions } from "./sdk-history.js";
import type { LoadedInstance } from "./state.js";
import { countSimulatorTokens, simulatorTokenPieces } from "./tokenizer.js";
import { instanceInfo } from "./ws-info.js";
import { loadConfigOf, modelEndpoints, resolveSpecifier } from "./ws-model-common.js";
import type { ChannelHandle, NamespaceEndpoints, SdkSession } from "./ws-protocol.js";

type ReasoningType = "none" | "reasoning" | "reasoningStartTag" | "reasoningEndTag";

function param(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

function predictionSettings(stack: unknown): {
  maxTokens?: number;
  jsonSchema?: unknown;
  tools: ToolDefinition[];
} {
  const max = readKvStack(stack, "llm.prediction.maxPredictedTokens");
  const structured = readKvStack(stack, "llm.prediction.structured");
  return {
    ...(isRecord(max) && max.checked === true && typeof max.value === "number"
      ? { maxTokens: max.value }
      : {}),
    ...(isRecord(structured) && structured.type === "json" && structured.jsonSchema !== undefined
      ? { jsonSchema: structured.jsonSchema }
      : {}),
    tools: sdkToolsToDefinitions(readKvStack(stack, "llm.prediction.tools")),
  };
}

function stopReasonOf(result: GenerationResult, cancelled: boolean): string {
  if (cancelled) return "userStopped";
  if (result.kind === "tool_calls") return "toolCalls";
  if (result.kind === "text" && result.finishReason === "length") return "maxPredictedTokensReached";
  return "eosFound";
}

/** Yields to the event loop so a `cancel` frame can arrive between fragments. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs one prediction over a predict/completeRawText channel. */
async function runPrediction(
  session: SdkSession,
  channel: ChannelHandle,
  instance: LoadedInstance,
  turns: ChatTurn[],
  stack: unknown,
  rawPrompt?: string,
): Promise<void> {
  const settings = predictionSettings(stack);
  let promptTokens = 0;
  let cachedTokens = 0;
  let announced = false;
  // Prompt progress goes out once the prompt is processed: before the first fragment, or at the end.
  const announce = (tokens: number) => {
    if (announced) return;
    announced = true;
    promptTokens = tokens;
    // The slot's cached prefix counts as done from the start (cachedTokenCount); the rest is processed.
    const cached = Math.min(cachedTokens, tokens);
    const details = (processed: number) => ({
      cachedTokenCount: cached,
      totalPromptTokenCount: tokens,
      processedPromptTokenCount: processed,
      unprocessedPromptTokenCount: tokens - processed,
    });
    channel.send({ type: "promptProcessingProgress", progress: 0, details: details(cached) });
    channel.send({ type: "promptProcessingProgress", progress: 1, details: details(tokens) });
  };

  let predicted = 0;
  const fragment = async (
    content: string,
    reasoningType: ReasoningType,
    tokensCount = countSimulatorTokens(content),
  ): Promise<boolean> => {
    await tick();
    if (channel.isCancelled()) return false;
    predicted += tokensCount;
    channel.send({
      type: "fragment",
      fragment: { content, tokensCount, containsDrafted: false, reasoningType, isStructural: false },
    });
    return true;
  };

  // A real engine streams while it decodes; its timings are measured, the scripted ones are nominal.
  const started = performance.now();
  let firstPieceAt: number | undefined;
  let streamed = false;
  let completed = true;
  const result = await generateInSlot(
    instance,
    {
      model: instance.model,
      contextLength: instance.contextLength,
      dialect: session.state.dialectFor(instance.model),
      turns,
      tools: rawPrompt === undefined ? settings.tools : [],
      ...(settings.jsonSchema !== undefined ? { jsonSchema: settings.jsonSchema } : {}),
      ...(settings.maxTokens !== undefined ? { maxTokens: settings.maxTokens } : {}),
      ...(rawPrompt !== undefined ? { rawPrompt } : {}),
    },
    session.state.options.timing,
    {
      onPlaced: (cached) => {
        cachedTokens = cached;
      },
      onPiece: async (piece, tokens) => {
        announce(tokens);
        firstPieceAt ??= performance.now();
        streamed = true;
        completed = await fragment(piece.text, "none", piece.tokens);
        return completed;
      },
    },
  );
  if (result.kind === "overflow" || result.kind === "crash" || result.kind === "exhausted")
    return channel.error({ title: result.message });
  announce(result.promptTokens);
  const elapsedSec = (performance.now() - started) / 1000;
  const timing = streamed
    ? {
        tokensPerSecond: predicted / Math.max(elapsedSec - (firstPieceAt! - started) / 1000, 1e-6),
        timeToFirstTokenSec: (firstPieceAt! - started) / 1000,
        totalTimeSec: elapsedSec,
      }
    : { tokensPerSecond: 50, timeToFirstTokenSec: 0.1, totalTimeSec: 0.1 + predicted / 50 };
  if (result.kind === "tool_calls") {
    for (const call of result.calls) {
      channel.send({ type: "toolCallGenerationStart", toolCallId: call.id });
      channel.send({ type: "toolCallGenerationNameReceived", name: call.name });
      channel.send({ type: "toolCallGenerationArgumentFragmentGenerated", content: call.arguments });
      channel.send({
        type: "toolCallGenerationEnd",
        toolCallRequest: {
          id: call.id,
          type: "function",
          name: call.name,
          arguments: JSON.parse(call.arguments),
        },
      });
      predicted += countSimulatorTokens(call.arguments);
    }
  } else if (!streamed) {
    completed = await streamText(result.content, fragment);
  }
  channel.send({
    type: "success",
    stats: {
      stopReason: stopReasonOf(result, !completed),
      ...timing,
      numGpuLayers: -1,
      promptTokensCount: promptTokens,
      predictedTokensCount: predicted,
      totalTokensCount: promptTokens + predicted,
    },
    modelInfo: instanceInfo(instance),
    loadModelConfig: loadConfigOf(instance),
    predictionConfig: flattenKvStack(stack),
  });
  channel.close();
}

/** Streams text as fragments, tagging an inline <think>…</think> block as reasoning. */
async function streamText(
  content: string,
  fragment: (content: string, type: ReasoningType) => Promise<boolean>,
): Promise<boolean> {
  const think = /^<think>([\s\S]*?)<\/think>/.exec(content);
  let rest = content;
  if (think) {
    if (!(await fragment("<think>", "reasoningStartTag"))) return false;
    for (const piece of streamPieces(simulatorTokenPieces(think[1]!))) {
      if (!(await fragment(piece, "reasoning"))) return false;
    }
    if (!(await fragment("</think>", "reasoningEndTag"))) return false;
    rest = content.slice(think[0].length);
  }
  for (const piece of contentFragments({ content: rest })) {
    if (!(await fragment(piece.text, "none"))) return false;
  }
  return true;
}

const base = modelEndpoints("llm");

export const llmEndpoints: NamespaceEndpoints = {
  rpc: {
    ...base.rpc,
    applyPromptTemplate: (session, parameter) => {
      const p = param(parameter);
      const instance = resolveSpecifier(session, "llm", p.specifier)!;
      const opts = param(p.opts);
      const tools = Array.isArray(opts.toolDefinitions)
        ? sdkToolsToDefinitions({ type: "toolArray", tools: opts.toolDefinitions })
        : predictionSettings(p.predictionConfigStack).tools;
      return { formatted: instance.engine.applyChatTemplate(sdkHistoryToTurns(p.history), tools) };
    },
    preloadDraftModel: () => undefined,
  },
  channels: {
    ...base.channels,
    predict: async (session, creation, channel) => {
      const p = param(creation);
      const instance = resolveSpecifier(session, "llm", p.modelSpecifier)!;
      await runPrediction(session, channel, instance, sdkHistoryToTurns(p.history), p.predictionConfigStack);
    },
    completeRawText: async (session, creation, channel) => {
      const p = param(creation);
      const instance = resolveSpecifier(session, "llm", p.modelSpecifier)!;
      await runPrediction(session, channel, instance, [], p.predictionConfigStack, String(p.rawPrompt ?? ""));
    },
  },
};
