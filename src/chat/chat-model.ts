import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import type {
  BaseLanguageModelInput,
  StructuredOutputMethodOptions,
} from "@langchain/core/language_models/base";
import { BaseChatModel, type LangSmithParams } from "@langchain/core/language_models/chat_models";
import type { ChatModelStreamEvent } from "@langchain/core/language_models/event";
import type { ModelProfile } from "@langchain/core/language_models/profile";
import type { Serialized } from "@langchain/core/load/serializable";
import { AIMessage, AIMessageChunk, type BaseMessage, type UsageMetadata } from "@langchain/core/messages";
import type { ChatGenerationChunk, ChatResult } from "@langchain/core/outputs";
import type { Runnable } from "@langchain/core/runnables";
import { ChatOpenAICompletions, type OpenAIClient, wrapOpenAIClientError } from "@langchain/openai";
import type { ChatClampResult, ContextGuardLike, OverflowPolicy } from "../context-guard/types.js";
import { lmStudioSettingsFor } from "../env/env.js";
import { droppedConnectionErrorFor, unreachableErrorFor } from "../lmstudio/connection-errors.js";
import { mapLMStudioError } from "../lmstudio/error-mapping.js";
import {
  assertSendableApiKey,
  LMStudioEmptyResponseError,
  LMStudioKvCacheExhaustedError,
  LMStudioModelNotFoundError,
  LMStudioNoModelLoadedError,
  LMStudioNoModelSelectedError,
  LMStudioRequestError,
} from "../lmstudio/errors.js";
import { listLMStudioModels, visionModelKeys } from "../lmstudio/model-info.js";
import { DEFAULT_STREAM_IDLE_TIMEOUT_MS, fetchWithStallTimeout } from "../lmstudio/stall-timeout.js";
import { normalizeBaseUrl } from "../lmstudio/urls.js";
import { VERSION } from "../version.js";
import { registerContentBlockTranslator } from "./content-blocks.js";
import { assertContextGuardOption, resolveContextGuard } from "./context-guard-option.js";
import { firstLoadedLLM, profileFromModelInfo } from "./profile.js";
import {
  type LMStudioCompletionParams,
  shapeLMStudioRequest,
  toLMStudioMessages,
} from "./request-shaping.js";
import {
  MODEL_PROVIDER,
  toLMStudioAIMessage,
  toOpenAICompletion,
  toOpenAICompletionChunk,
} from "./response-parsing.js";
import { LMStudioStreamShaper } from "./stream-shaping.js";
import {
  buildStructuredOutput,
  type StructuredOutput,
  type StructuredOutputSchema,
} from "./structured-output.js";
import type { ChatLMStudioCallOptions, ChatLMStudioFields } from "./types.js";

registerContentBlockTranslator();

/**
 * The openai client refuses to start without an API key, but LM Studio needs none by default.
 * This value satisfies the client; it is never sent (see `completionWithRetry`).
 */
const NO_API_KEY = "lm-studio-no-api-key";

/** Wait for the first event of an answer when no `timeout` is set: the openai client's own default. */
const DEFAULT_FIRST_EVENT_TIMEOUT_MS = 600_000;

/** How long the best-effort model lookup that enriches error messages may take. */
const ERROR_CONTEXT_LOOKUP_MS = 1_500;

type RequestOptions = OpenAIClient.RequestOptions & { maxRetries?: number };
type StreamingRequest = OpenAIClient.Chat.ChatCompletionCreateParamsStreaming;
type NonStreamingRequest = OpenAIClient.Chat.ChatCompletionCreateParamsNonStreaming;

/**
 * Call options prepared by `sendPrepared`: the guard's clamp travels with them through the parent
 * into `invocationParams`, and `completionWithRetry` recognises them when the parent passes them on.
 */
const PREPARED_CALL = Symbol("ChatLMStudio.preparedCall");
type PreparedCallOptions = ChatLMStudioCallOptions & {
  [PREPARED_CALL]?: { clamp: ChatClampResult | undefined };
};

/**
 * One call as sent: the model the request names, the (possibly clamped) messages, the prepared options,
 * and `release`, which frees the room the guard's admission control gave the call.
 */
interface PreparedCall<Options> {
  model: string;
  messages: BaseMessage[];
  options: Options;
  release: () => void;
}

/**
 * The parent's streaming path passes its call options where request options belong; take the
 * request options out of them (signal, retries and the caller's `options`), as its other path does.
 */
function requestOptionsFrom(
  requestOptions: RequestOptions | PreparedCallOptions | undefined,
): RequestOptions {
  if (!requestOptions || !(PREPARED_CALL in requestOptions)) return (requestOptions ?? {}) as RequestOptions;
  const call = requestOptions as PreparedCallOptions;
  return { signal: call.signal, maxRetries: call.maxRetries, ...call.options } as RequestOptions;
}

/** Options ChatLMStudio adds that are both constructor fields and per-call options. */
const LM_STUDIO_OPTION_KEYS = ["topK", "minP", "repeatPenalty", "ttl", "draftModel", "overflow"];

/** LangChain's legacy `llmOutput.tokenUsage`, which callbacks and older tracers still read. */
function llmOutputFor(usage: UsageMetadata | undefined): ChatResult["llmOutput"] {
  if (!usage) return {};
  return {
    tokenUsage: {
      promptTokens: usage.input_tokens,
      completionTokens: usage.output_tokens,
      totalTokens: usage.total_tokens,
    },
  };
}

/**
 * LM Studio as a LangChain chat model. Built on ChatOpenAICompletions (not ChatOpenAI, whose
 * `withConfig` turns subclasses back into ChatOpenAI after `bindTools`/`withStructuredOutput`) and
 * changed wherever LM Studio differs from OpenAI: request shape, reasoning, metadata, errors.
 *
 * ```ts
 * const model = new ChatLMStudio("qwen2.5-7b-instruct");
 * const answer = await model.invoke("Hello");
 * ```
 */
export class ChatLMStudio extends ChatOpenAICompletions<ChatLMStudioCallOptions> {
  static override lc_name(): string {
    return "ChatLMStudio";
  }

  override _llmType(): string {
    return MODEL_PROVIDER;
  }

  override lc_serializable = true;

  override lc_namespace = ["langchain", "chat_models", "lmstudio"];

  override get lc_secrets(): { [key: string]: string } | undefined {
    return { apiKey: "LM_API_TOKEN" };
  }

  override get lc_serializable_keys(): string[] {
    // `configuration` holds the client's options, including the token: never serialised.
    const inherited = (super.lc_serializable_keys ?? []).filter((key) => key !== "configuration");
    return [...inherited, ...LM_STUDIO_OPTION_KEYS, "templateOpensThink"];
  }

  override get callKeys(): string[] {
    return [...super.callKeys, "streamUsage", ...LM_STUDIO_OPTION_KEYS];
  }

  /** LM Studio's OpenAI-compatible URL, e.g. http://localhost:1234/v1. */
  readonly baseUrl: string;
  topK?: number;
  minP?: number;
  repeatPenalty?: number;
  ttl?: number;
  draftModel?: string;
  overflow: OverflowPolicy;
  templateOpensThink: boolean;

  /** The LM Studio token (the parent's `apiKey` is typed for OpenAI's key setters). */
  private readonly token: string | undefined;
  private readonly contextGuardOption: boolean | ContextGuardLike | undefined;
  private contextGuard: Promise<ContextGuardLike> | undefined;
  private serverProfile: ModelProfile = {};

  constructor(fields?: ChatLMStudioFields);
  constructor(model: string, fields?: Omit<ChatLMStudioFields, "model">);
  constructor(modelOrFields?: string | ChatLMStudioFields, maybeFields?: Omit<ChatLMStudioFields, "model">) {
    const fields: ChatLMStudioFields =
      typeof modelOrFields === "string" ? { ...maybeFields, model: modelOrFields } : { ...modelOrFields };
    const settings = lmStudioSettingsFor(fields.settings, [
      fields.baseUrl,
      fields.model,
      fields.apiKey,
      fields.maxTokens,
    ]);
    const baseUrl = normalizeBaseUrl(fields.baseUrl ?? settings.baseUrl);
    const apiKey = fields.apiKey ?? settings.apiKey;
    assertSendableApiKey(apiKey);
    const {
      contextGuard,
      overflow,
      topK,
      minP,
      repeatPenalty,
      ttl,
      draftModel,
      settings: _settings,
      templateOpensThink,
      streamIdleTimeout,
      ...openAIFields
    } = fields;
    super({
      ...openAIFields,
      baseUrl,
      model: fields.model ?? settings.model ?? "",
      maxTokens: fields.maxTokens ?? settings.maxTokens,
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(topK !== undefined ? { topK } : {}),
      ...(minP !== undefined ? { minP } : {}),
      ...(repeatPenalty !== undefined ? { repeatPenalty } : {}),
      ...(ttl !== undefined ? { ttl } : {}),
      ...(draftModel !== undefined ? { draftModel } : {}),
      ...(overflow !== undefined ? { overflow } : {}),
      configuration: {
        ...fields.configuration,
        baseURL: baseUrl,
        apiKey: apiKey ?? NO_API_KEY,
        fetch: chatFetch(fields.configuration?.fetch, fields.timeout, streamIdleTimeout),
      },
    } as ConstructorParameters<typeof ChatOpenAICompletions>[0]);
    this.baseUrl = baseUrl;
    // The parent falls back to OPENAI_API_KEY; an OpenAI key must never be sent to LM Studio.
    this.apiKey = apiKey;
    this.token = apiKey;
    this.topK = topK;
    this.minP = minP;
    this.repeatPenalty = repeatPenalty;
    this.ttl = ttl;
    this.draftModel = draftModel;
    this.overflow = overflow ?? "error";
    this.templateOpensThink = templateOpensThink ?? false;
    assertContextGuardOption(contextGuard);
    this.contextGuardOption = contextGuard;
    // Older @langchain/core versions lack _addVersion; tracing metadata is optional.
    if (typeof this._addVersion === "function") this._addVersion("langchain-lmstudio", VERSION);
  }

  /**
   * Reads the server's model list (`/api/v1/models`, falling back to `/api/v0/models`) to fill
   * `profile`. Without a model name, picks the first loaded LLM.
   */
  async init(signal?: AbortSignal): Promise<this> {
    const models = await listLMStudioModels({ baseUrl: this.baseUrl, apiKey: this.token, signal });
    if (!this.model) this.model = firstLoadedLLM(models) ?? "";
    this.serverProfile = profileFromModelInfo(models, this.model);
    const tested = await this.testedPromptLimit();
    // With the guard, the usable prompt is what was measured, not what happens to be loaded.
    if (tested !== undefined && this.serverProfile.maxInputTokens !== undefined)
      this.serverProfile = { ...this.serverProfile, maxInputTokens: tested };
    return this;
  }

  /** The guard's tested prompt size for this model; undefined without a guard or a test result. */
  private async testedPromptLimit(): Promise<number | undefined> {
    if (!this.contextGuardOption || !this.model) return undefined;
    this.contextGuard ??= resolveContextGuard(this.contextGuardOption, {
      baseUrl: this.baseUrl,
      apiKey: this.token,
    });
    // Best effort: without an answer the profile keeps the loaded context; requests report guard errors.
    return (await this.contextGuard).promptLimitFor?.(this.model).catch(() => undefined);
  }

  /**
   * Closes the context guard this model built for `contextGuard: true` (its SDK connection, and the
   * instances it loaded), so a process can exit and many models do not hoard sockets. A guard passed
   * in is the caller's to close. A later guarded call builds a new guard.
   */
  async close(): Promise<void> {
    const built = this.contextGuardOption === true ? this.contextGuard : undefined;
    this.contextGuard = undefined;
    if (built) await ((await built) as ContextGuardLike & { close?: () => Promise<void> }).close?.();
  }

  /** `new ChatLMStudio(fields)` followed by `init()`, so `profile` is ready. */
  static async fromServer(fields?: ChatLMStudioFields): Promise<ChatLMStudio> {
    return new ChatLMStudio(fields).init();
  }

  /** What the server reported at `init()`/`fromServer()`; empty before. */
  override get profile(): ModelProfile {
    return this.serverProfile;
  }

  override getLsParams(options: this["ParsedCallOptions"]): LangSmithParams {
    const params = this.invocationParams(options);
    return {
      ls_provider: MODEL_PROVIDER,
      ls_model_name: this.model,
      ls_model_type: "chat",
      ls_temperature: params.temperature ?? undefined,
      ls_max_tokens: params.max_tokens ?? undefined,
      ls_stop: options.stop,
    };
  }

  override toJSON(): Serialized {
    const serialized = super.toJSON();
    if (serialized.type !== "constructor") return serialized;
    // The parent's alias and secret name (openai_api_key / OPENAI_API_KEY) win in core's merge;
    // replace them with LM Studio's, and never emit the token itself.
    const {
      openai_api_key: _openAIKey,
      api_key: _apiKey,
      configuration: _configuration,
      ...kwargs
    } = serialized.kwargs;
    if (this.token !== undefined) kwargs.api_key = { lc: 1, type: "secret", id: ["LM_API_TOKEN"] };
    return { ...serialized, kwargs };
  }

  /**
   * What `console.log(model)` and `util.inspect` show: the serialised fields. The inherited fields and
   * the openai client hold the token in plain properties, which the default inspection would print.
   */
  [Symbol.for("nodejs.util.inspect.custom")](): Record<string, unknown> {
    const serialized = this.toJSON();
    return { ChatLMStudio: serialized.type === "constructor" ? serialized.kwargs : serialized.id };
  }

  override invocationParams(
    options?: this["ParsedCallOptions"],
    extra?: { streaming?: boolean },
  ): LMStudioCompletionParams {
    // The response format is shaped here, not by the parent: its zod path uses the openai SDK's
    // strict-mode helper, and a json_schema response format makes it force `strict` on tools.
    const base = super.invocationParams(
      options ? { ...options, response_format: undefined } : options,
      extra,
    );
    const shaped = shapeLMStudioRequest(base, {
      responseFormat: options?.response_format,
      streaming: this.streaming || extra?.streaming === true,
      streamUsage: options?.streamUsage ?? this.streamUsage,
      explicitStreamOptions: options?.stream_options,
      extras: {
        topK: options?.topK ?? this.topK,
        minP: options?.minP ?? this.minP,
        repeatPenalty: options?.repeatPenalty ?? this.repeatPenalty,
        ttl: options?.ttl ?? this.ttl,
        draftModel: options?.draftModel ?? this.draftModel,
      },
    });
    // A prepared call sends what the guard chose: its instance and its output budget.
    const clamp = (options as PreparedCallOptions | undefined)?.[PREPARED_CALL]?.clamp;
    return clamp ? { ...shaped, model: clamp.model, max_tokens: clamp.maxTokens } : shaped;
  }

  // The same overloads as ChatOpenAI's, so the result type is inferred from a zod v3/v4 or Standard
  // Schema; a plain JSON Schema gives a loose record, as there.
  override withStructuredOutput<RunOutput extends StructuredOutput = StructuredOutput>(
    outputSchema: StructuredOutputSchema<RunOutput>,
    config?: StructuredOutputMethodOptions<false>,
  ): Runnable<BaseLanguageModelInput, RunOutput>;
  override withStructuredOutput<RunOutput extends StructuredOutput = StructuredOutput>(
    outputSchema: StructuredOutputSchema<RunOutput>,
    config?: StructuredOutputMethodOptions<true>,
  ): Runnable<BaseLanguageModelInput, { raw: BaseMessage; parsed: RunOutput }>;
  override withStructuredOutput<RunOutput extends StructuredOutput = StructuredOutput>(
    outputSchema: StructuredOutputSchema<RunOutput>,
    config?: StructuredOutputMethodOptions<boolean>,
  ):
    | Runnable<BaseLanguageModelInput, RunOutput>
    | Runnable<BaseLanguageModelInput, { raw: BaseMessage; parsed: RunOutput }>;
  override withStructuredOutput<RunOutput extends StructuredOutput = StructuredOutput>(
    outputSchema: StructuredOutputSchema<RunOutput>,
    config?: StructuredOutputMethodOptions<boolean>,
  ):
    | Runnable<BaseLanguageModelInput, RunOutput>
    | Runnable<BaseLanguageModelInput, { raw: BaseMessage; parsed: RunOutput }> {
    return buildStructuredOutput<RunOutput>(this, outputSchema, config);
  }

  override async _generate(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): Promise<ChatResult> {
    options.signal?.throwIfAborted();
    // The parent's streaming branch estimates usage with tiktoken (OpenAI's tokenizer, fetched over the
    // network); gathering this class's own stream keeps the usage LM Studio reports.
    if (this.streaming) return this.generateByStreaming(messages, options, runManager);

    const { model, response: result } = await this.sendPrepared(messages, options, false, (prepared, call) =>
      super._generate(prepared, call, runManager),
    );
    // No generation: the body was empty, not an object, or had no message (see toOpenAICompletion).
    const generation = result.generations[0];
    if (!generation) throw new LMStudioEmptyResponseError(model);
    const finishReason = generation.generationInfo?.finish_reason;
    const message = toLMStudioAIMessage(generation.message, finishReason);
    const hasOutput =
      message.content.length > 0 ||
      (AIMessage.isInstance(message) && (message.tool_calls?.length ?? 0) > 0) ||
      finishReason != null;
    if (!hasOutput) throw new LMStudioEmptyResponseError(model);
    const usage = AIMessage.isInstance(message) ? message.usage_metadata : undefined;
    return {
      generations: [
        {
          text: typeof message.content === "string" ? message.content : "",
          message,
          generationInfo: finishReason ? { finish_reason: finishReason } : {},
        },
      ],
      llmOutput: llmOutputFor(usage),
    };
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    options.signal?.throwIfAborted();
    const {
      model,
      response: stream,
      release,
    } = await this.sendPrepared(messages, options, true, async (prepared, call) => {
      // No runManager: tokens are reported below, as LM Studio's shaped chunks, not the raw deltas.
      const chunks = super._streamResponseChunks(prepared, call);
      // The request goes out on the first pull, so a failed request (an evicted instance) surfaces here.
      return { chunks, first: await chunks.next() };
    });
    const shaper = new LMStudioStreamShaper(model, this.templateOpensThink);
    const emit = async (chunk: ChatGenerationChunk, index: number) => {
      await runManager?.handleLLMNewToken(
        chunk.text ?? "",
        { prompt: options.promptIndex ?? 0, completion: index },
        undefined,
        undefined,
        undefined,
        { chunk },
      );
      return chunk;
    };

    try {
      for (let next = stream.first; !next.done; next = await stream.chunks.next()) {
        const shaped = shaper.push(next.value);
        if (shaped) yield await emit(shaped, Number(next.value.generationInfo?.completion ?? 0));
      }
    } catch (error) {
      options.signal?.throwIfAborted();
      throw error;
    } finally {
      // Closes the HTTP stream when the caller stops reading early.
      await stream.chunks.return(undefined);
      release();
    }
    // The parent ends quietly on abort; the caller must see the abort.
    options.signal?.throwIfAborted();
    for (const chunk of shaper.finish()) yield await emit(chunk, 0);
  }

  /**
   * The content-block event protocol (`streamEvents()` v3, LangGraph stream handlers) is bridged from
   * `_streamResponseChunks`, so reasoning splitting, metadata and error mapping apply there too.
   * Kept because the parent's native version reads the raw stream (no hook to shape its deltas) and
   * would bypass all of that.
   */
  override async *_streamChatModelEvents(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatModelStreamEvent> {
    yield* BaseChatModel.prototype._streamChatModelEvents.call(this, messages, options, runManager);
  }

  /**
   * The one place requests meet the client, for both parent paths: LM Studio's message fixes go out,
   * answers come back in the shape the parent's converters read, and every failure (also mid-stream)
   * becomes a typed error.
   */
  override async completionWithRetry(
    request: StreamingRequest,
    requestOptions?: RequestOptions,
  ): Promise<AsyncIterable<OpenAIClient.Chat.Completions.ChatCompletionChunk>>;
  override async completionWithRetry(
    request: NonStreamingRequest,
    requestOptions?: RequestOptions,
  ): Promise<OpenAIClient.Chat.Completions.ChatCompletion>;
  override async completionWithRetry(
    request: StreamingRequest | NonStreamingRequest,
    requestOptions?: RequestOptions,
  ): Promise<
    | AsyncIterable<OpenAIClient.Chat.Completions.ChatCompletionChunk>
    | OpenAIClient.Chat.Completions.ChatCompletion
  > {
    const { maxRetries, ...sdkOptions } = requestOptionsFrom(requestOptions);
    const clientOptions = this._getClientOptions(sdkOptions as OpenAIClient.RequestOptions);
    // Without a token, drop the placeholder's Authorization header rather than send a fake one.
    const options: OpenAIClient.RequestOptions =
      this.token === undefined
        ? { ...clientOptions, headers: { ...toHeaderRecord(clientOptions.headers), Authorization: null } }
        : clientOptions;
    const body = { ...request, messages: toLMStudioMessages(request.messages) };
    const response = await this.caller.callWithOptions(
      { maxRetries, signal: sdkOptions.signal ?? undefined },
      async () => {
        try {
          // Always `create`, never the parent's `.parse()`: parse insists on strict tools, which
          // LM Studio neither needs nor always gets.
          return await this.client.chat.completions.create(body, options);
        } catch (error) {
          throw await this.toLMStudioError(error, request.model);
        }
      },
    );
    if (!request.stream) return toOpenAICompletion(response as OpenAIClient.Chat.Completions.ChatCompletion);
    return this.lmStudioFrames(
      response as AsyncIterable<OpenAIClient.Chat.Completions.ChatCompletionChunk>,
      request.model,
    );
  }

  private async *lmStudioFrames(
    frames: AsyncIterable<OpenAIClient.Chat.Completions.ChatCompletionChunk>,
    model: string,
  ): AsyncGenerator<OpenAIClient.Chat.Completions.ChatCompletionChunk> {
    try {
      for await (const frame of frames) yield toOpenAICompletionChunk(frame);
    } catch (error) {
      throw await this.toLMStudioError(error, model);
    }
  }

  /** `invoke` on a model built with `streaming: true`: the stream, gathered into one message. */
  private async generateByStreaming(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): Promise<ChatResult> {
    let aggregate: ChatGenerationChunk | undefined;
    for await (const chunk of this._streamResponseChunks(messages, options, runManager)) {
      aggregate = aggregate ? aggregate.concat(chunk) : chunk;
    }
    if (!aggregate || !AIMessageChunk.isInstance(aggregate.message))
      throw new LMStudioEmptyResponseError(this.model);
    const chunk = aggregate.message;
    const message = new AIMessage({
      content: chunk.content,
      id: chunk.id,
      tool_calls: chunk.tool_calls,
      invalid_tool_calls: chunk.invalid_tool_calls,
      additional_kwargs: chunk.additional_kwargs,
      response_metadata: { ...aggregate.generationInfo, ...chunk.response_metadata },
      usage_metadata: chunk.usage_metadata,
    });
    const usage = chunk.usage_metadata;
    return {
      generations: [{ text: aggregate.text, message, generationInfo: aggregate.generationInfo }],
      llmOutput: llmOutputFor(usage),
    };
  }

  /**
   * Prepares one call and hands it to the parent. With the context guard, the call names the instance
   * the guard loaded; if LM Studio has unloaded it since (TTL, auto-evict), the answer is "model not
   * found": the guard forgets the instance, loads the model again at its tested context, and the call
   * is made once more. The guard also admits the call onto the instance only when it fits beside the
   * others running there; if the shared KV cache ran out anyway (another process, a request outside the
   * guard), the call is made once more after this process's requests on the instance have finished.
   * `release` frees the call's room: at once for a complete answer, at the end of a stream.
   */
  private async sendPrepared<T>(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    streaming: boolean,
    send: (messages: BaseMessage[], options: this["ParsedCallOptions"]) => Promise<T>,
  ): Promise<{ model: string; response: T; release: () => void }> {
    let sentTo = "";
    const attempt = async () => {
      const call = await this.prepareCall(messages, options, streaming);
      sentTo = call.model;
      try {
        const response = await send(call.messages, call.options);
        if (!streaming) call.release();
        return { model: call.model, response, release: call.release };
      } catch (error) {
        call.release();
        throw error;
      }
    };
    try {
      return await attempt();
    } catch (error) {
      const guard = this.contextGuard ? await this.contextGuard : undefined;
      const instanceGone =
        error instanceof LMStudioModelNotFoundError || error instanceof LMStudioNoModelLoadedError;
      if (guard?.invalidate && instanceGone)
        guard.invalidate(this.invocationParams(options, { streaming }).model);
      else if (guard?.drained && error instanceof LMStudioKvCacheExhaustedError) await guard.drained(sentTo);
      else throw error;
      return attempt();
    }
  }

  /** Guard clamping (when enabled): the messages to send, and options carrying the clamp to invocationParams. */
  private async prepareCall(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    streaming: boolean,
  ): Promise<PreparedCall<this["ParsedCallOptions"]>> {
    const params = this.invocationParams(options, { streaming });
    if (!params.model) throw new LMStudioNoModelSelectedError();
    const clamp = await this.clamp(messages, params, options);
    const guard = clamp && this.contextGuard ? await this.contextGuard : undefined;
    const ticket =
      clamp && guard?.admit
        ? await guard.admit(clamp.model, clamp.promptTokens + clamp.maxTokens, options.signal)
        : undefined;
    const prepared: PreparedCallOptions = { ...options, [PREPARED_CALL]: { clamp } };
    return {
      model: clamp?.model ?? params.model,
      messages: clamp?.messages ?? messages,
      options: prepared as this["ParsedCallOptions"],
      release: ticket ? () => ticket.release() : () => undefined,
    };
  }

  private async clamp(
    messages: BaseMessage[],
    params: LMStudioCompletionParams,
    options: this["ParsedCallOptions"],
  ): Promise<ChatClampResult | undefined> {
    if (!this.contextGuardOption) return undefined;
    this.contextGuard ??= resolveContextGuard(this.contextGuardOption, {
      baseUrl: this.baseUrl,
      apiKey: this.token,
    });
    const guard = await this.contextGuard;
    return guard.clampChat(
      {
        model: params.model,
        messages,
        ...(params.tools ? { tools: params.tools } : {}),
        ...(params.max_tokens != null ? { maxTokens: params.max_tokens } : {}),
        overflow: options.overflow ?? this.overflow,
      },
      options.signal,
    );
  }

  /** Any failure of a request, as the typed error a caller can act on. */
  private async toLMStudioError(error: unknown, model: string): Promise<unknown> {
    const unreachable = unreachableErrorFor(error, this.baseUrl);
    if (unreachable) return unreachable;
    if (typeof error !== "object" || error === null) return error;
    const name = (error as { constructor?: { name?: string } }).constructor?.name;
    // Aborts and client timeouts keep LangChain's names (AbortError / TimeoutError).
    if (name === "APIUserAbortError" || name === "APIConnectionTimeoutError")
      return wrapOpenAIClientError(error);
    const dropped = droppedConnectionErrorFor(error, this.baseUrl);
    if (dropped) return dropped;
    // The openai client parses bodies and SSE frames with JSON.parse and lets its SyntaxError through.
    if (error instanceof SyntaxError) {
      const malformed = new LMStudioRequestError(
        `LM Studio at ${this.baseUrl} sent a response that is not valid JSON: ${error.message}`,
        undefined,
        undefined,
      );
      malformed.cause = error;
      return malformed;
    }
    const status = (error as { status?: unknown }).status;
    const body = (error as { error?: unknown }).error;
    const isServerAnswer = typeof status === "number" || (body !== undefined && name === "APIError");
    if (!isServerAnswer) return error;
    const message = (error as { message?: unknown }).message;
    const mapped = mapLMStudioError(
      typeof status === "number" ? status : undefined,
      body ?? (typeof message === "string" ? message.replace(/^\d{3} /, "") : message),
      { model, visionModels: await this.visionModelsForErrors(body ?? message) },
      error instanceof Error ? error : undefined,
    );
    return mapped;
  }

  /** For "Model does not support images": which models could; best effort, never throws. */
  private async visionModelsForErrors(bodyOrMessage: unknown): Promise<string[] | undefined> {
    const text = typeof bodyOrMessage === "string" ? bodyOrMessage : JSON.stringify(bodyOrMessage ?? "");
    if (!/does not support images/.test(text)) return undefined;
    try {
      const models = await listLMStudioModels({
        baseUrl: this.baseUrl,
        apiKey: this.token,
        timeoutMs: ERROR_CONTEXT_LOOKUP_MS,
      });
      return visionModelKeys(models);
    } catch {
      return undefined;
    }
  }
}

/** The client's fetch, with answers that stall after their headers ending in LMStudioTimeoutError. */
function chatFetch(
  custom: unknown,
  timeout: number | undefined,
  idleTimeout: number | undefined,
): typeof fetch {
  const base: typeof fetch =
    typeof custom === "function" ? (custom as typeof fetch) : (input, init) => fetch(input, init);
  return fetchWithStallTimeout(base, {
    firstEventMs: timeout ?? DEFAULT_FIRST_EVENT_TIMEOUT_MS,
    idleMs: idleTimeout ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS,
  });
}

function toHeaderRecord(headers: OpenAIClient.RequestOptions["headers"]): Record<string, string | null> {
  if (!headers) return {};
  if (headers instanceof Headers) return Object.fromEntries(headers.entries());
  if (Array.isArray(headers)) return Object.fromEntries(headers as Array<[string, string]>);
  return { ...(headers as Record<string, string | null>) };
}
