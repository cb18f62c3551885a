import type { BaseLanguageModelInput } from "@langchain/core/language_models/base";
import { type ContentBlock, HumanMessage } from "@langchain/core/messages";
import type { Runnable } from "@langchain/core/runnables";
import { ChatLMStudio } from "../chat/index.js";
import type { StructuredOutput, StructuredOutputSchema } from "../chat/structured-output.js";
import type { ChatLMStudioFields } from "../chat/types.js";
import { type LMStudioSettings, lmStudioSettingsFor } from "../env/env.js";
import { normalizeBaseUrl } from "../lmstudio/urls.js";
import { type ImageContentOptions, type ImageContentPart, toImageContent } from "./image-content.js";
import type { ImageInput } from "./image-source.js";
import {
  checkPageNumbers,
  type PdfInput,
  type PdfReadOptions,
  pagesWithoutText,
  pdfText,
  pdfToImages,
} from "./pdf.js";
import { assertVisionModel } from "./vision-capability.js";

export interface LMStudioVisionParams {
  /** A vision-capable model (default LMSTUDIO_VISION_MODEL). */
  model?: string;
  baseUrl?: string;
  apiKey?: string;
  /** How images are converted and downscaled before sending. */
  image?: ImageContentOptions;
  /** Further ChatLMStudio options (temperature, maxTokens, timeout, maxRetries, …). */
  chat?: Omit<ChatLMStudioFields, "model" | "baseUrl" | "apiKey" | "settings">;
  /** Defaults to use instead of reading the environment. */
  settings?: LMStudioSettings;
}

/** A zod v3/v4 or Standard Schema (the page results are typed from it) or a JSON Schema object. */
export type DocumentSchema<T extends StructuredOutput = StructuredOutput> = StructuredOutputSchema<T>;

export interface DescribeDocumentOptions extends PdfReadOptions {
  /** 1-based pages to describe (default: every page). */
  pages?: number[];
  prompt?: string;
  /** When given, each page's answer is structured output matching it. */
  schema?: DocumentSchema;
  /** Render scale for pages sent as images (default 2). */
  scale?: number;
  /**
   * "use" (default): pages with a usable text layer are sent as text and only the others as images;
   * "ignore": every page is sent as an image.
   */
  textLayer?: "use" | "ignore";
  signal?: AbortSignal;
}

export interface PageDescription<T> {
  page: number;
  /** How the page reached the model. */
  via: "text" | "image";
  output: T;
}

function textBlock(text: string): ContentBlock {
  return { type: "text", text };
}

/** The OpenAI-style image part, which ChatLMStudio sends to LM Studio as is. */
function imageBlock(image: ImageContentPart): ContentBlock {
  return { type: image.type, image_url: image.image_url };
}

const DEFAULT_IMAGE_PROMPT = "Describe this image in detail.";
const DEFAULT_PAGE_PROMPT = "Transcribe and describe the content of this document page.";

/**
 * Describing images and PDF pages with an LM Studio vision model. Every image is converted to a PNG or
 * JPEG data URL first, and the model's vision capability is checked before the first upload.
 */
export class LMStudioVision {
  readonly model: string;
  readonly baseUrl: string;
  private readonly apiKey?: string;
  private readonly imageOptions: ImageContentOptions;
  private readonly chat: ChatLMStudio;
  /** Resolved once: whether a model can see does not change while it stays the same model. */
  private visionCheck?: Promise<void>;

  constructor(fields: LMStudioVisionParams = {}) {
    const settings = lmStudioSettingsFor(fields.settings, [fields.model, fields.baseUrl, fields.apiKey]);
    const model = fields.model ?? settings.visionModel;
    if (!model) {
      throw new Error(
        "LMStudioVision needs a vision model: pass { model } or set LMSTUDIO_VISION_MODEL " +
          "(e.g. qwen2-vl-2b-instruct).",
      );
    }
    this.model = model;
    this.baseUrl = normalizeBaseUrl(fields.baseUrl ?? settings.baseUrl);
    this.apiKey = fields.apiKey ?? settings.apiKey;
    this.imageOptions = fields.image ?? {};
    this.chat = new ChatLMStudio({
      ...fields.chat,
      model,
      baseUrl: this.baseUrl,
      ...(this.apiKey !== undefined ? { apiKey: this.apiKey } : {}),
      settings,
    });
  }

  /** Throws LMStudioVisionNotSupportedError (naming the models that can see) for a non-VLM. */
  ensureVisionModel(signal?: AbortSignal): Promise<void> {
    if (!this.visionCheck) {
      this.visionCheck = assertVisionModel(this.model, {
        baseUrl: this.baseUrl,
        apiKey: this.apiKey,
        signal,
      });
      // A failed check (server down) is retried next time; a refusal is retried too, cheaply.
      this.visionCheck.catch(() => {
        this.visionCheck = undefined;
      });
    }
    return this.visionCheck;
  }

  async describeImage(
    input: ImageInput,
    prompt = DEFAULT_IMAGE_PROMPT,
    signal?: AbortSignal,
  ): Promise<string> {
    await this.ensureVisionModel(signal);
    const image = await toImageContent(input, this.imageOptions);
    const message = new HumanMessage({ content: [textBlock(prompt), imageBlock(image)] });
    const answer = await this.chat.invoke([message], { signal });
    return answer.text;
  }

  /**
   * One answer per page. Pages with a usable text layer go to the model as text (unless `textLayer`
   * is "ignore"); the rest are rendered and sent as images. With a schema, each answer is the parsed
   * structured output.
   */
  async describeDocument<T extends StructuredOutput = StructuredOutput>(
    pdf: PdfInput,
    options: Omit<DescribeDocumentOptions, "schema"> & { schema: DocumentSchema<T> },
  ): Promise<Array<PageDescription<T>>>;
  async describeDocument(
    pdf: PdfInput,
    options?: DescribeDocumentOptions,
  ): Promise<Array<PageDescription<string>>>;
  async describeDocument(
    pdf: PdfInput,
    options: DescribeDocumentOptions = {},
  ): Promise<Array<PageDescription<string | StructuredOutput>>> {
    const prompt = options.prompt ?? DEFAULT_PAGE_PROMPT;
    const texts = await pdfText(pdf, options);
    if (options.pages) checkPageNumbers(options.pages, texts.length);
    const pages = options.pages ?? texts.map(({ page }) => page);
    const imagePages = new Set(options.textLayer === "ignore" ? pages : pagesWithoutText(texts));
    const asImages = pages.filter((page) => imagePages.has(page));
    if (asImages.length > 0) await this.ensureVisionModel(options.signal);
    const rendered = new Map(
      asImages.length > 0
        ? (await pdfToImages(pdf, { ...options, pages: asImages, scale: options.scale })).map((image) => [
            image.page,
            image.png,
          ])
        : [],
    );

    const runnable: Runnable<BaseLanguageModelInput, unknown> = options.schema
      ? this.chat.withStructuredOutput(options.schema)
      : this.chat;
    const results: Array<PageDescription<string | StructuredOutput>> = [];
    for (const page of pages) {
      const png = rendered.get(page);
      const content = png
        ? [textBlock(prompt), imageBlock(await toImageContent(png, this.imageOptions))]
        : [textBlock(`${prompt}\n\n--- page ${page} ---\n${texts[page - 1]?.text ?? ""}`)];
      const raw = await runnable.invoke([new HumanMessage({ content })], { signal: options.signal });
      const output = options.schema ? (raw as StructuredOutput) : (raw as { text: string }).text;
      results.push({ page, via: png ? "image" : "text", output });
    }
    return results;
  }
}
