import { ContextOverflowError } from "@langchain/core/errors";
import type { ImageContentPart } from "../../src/vision/index.js";
import type { Category } from "./categories.js";
import type { Classification, classificationSchema } from "./classification-schema.js";
import type { DocumentPage, LoadedDocument } from "./documents.js";
import { findEvidence } from "./evidence.js";
import { classifyWith } from "./model-call.js";
import { estimateTokens, type SelectedPage, selectHeadAndTail } from "./page-selection.js";
import { classificationMessages, PAGE_MARKER_TOKENS, systemPrompt } from "./prompt.js";
import type { ModelSlot } from "./providers.js";
import { type PageVote, tallyVotes } from "./vote.js";

/**
 * One document, end to end: a head + tail pass sized to the model's context, a page-wise vote
 * when that pass is unsure, and the vision model for any pass that includes a page without text.
 */

export interface ClassifierSettings {
  categories: readonly Category[];
  schema: ReturnType<typeof classificationSchema>;
  text: ModelSlot;
  vision: ModelSlot;
  /** Answer tokens reserved in every request. */
  maxOutputTokens: number;
  /** A first pass below this confidence triggers the page-wise vote. */
  voteBelow: number;
  /** Most pages classified one by one in a vote. */
  maxVotePages: number;
  /** What one page image costs in prompt tokens (model-dependent; 256 for the simulator's VLM). */
  imageTokens: number;
}

export type Method = "whole" | "head+tail" | "page-vote";

export interface DocumentClassification {
  category: string;
  confidence: number;
  reason: string;
  evidenceQuote: string;
  evidencePage: number;
  /** The quote was found word for word on that page of the text layer. */
  evidenceVerified: boolean;
  pagesUsed: number[];
  pageCount: number;
  method: Method;
  visionUsed: boolean;
  inputTokens: number;
  outputTokens: number;
  requests: number;
}

/** Share of the context a prompt may fill: the token estimate is coarse and templates add a little. */
const CONTEXT_SHARE = 0.85;
/** After an overflow the prompt is rebuilt for this share of the previous budget, once. */
const OVERFLOW_RETRY_SHARE = 0.5;

interface PassResult {
  vote: PageVote;
  pages: SelectedPage[];
  vision: boolean;
  inputTokens: number;
  outputTokens: number;
  requests: number;
}

export class DocumentClassifier {
  private readonly systemTokens: number;

  constructor(private readonly settings: ClassifierSettings) {
    this.systemTokens = estimateTokens(systemPrompt(settings.categories));
  }

  private async budget(slot: ModelSlot): Promise<number> {
    const context = await slot.contextTokens();
    return Math.floor(context * CONTEXT_SHARE) - this.settings.maxOutputTokens - this.systemTokens;
  }

  private select(pages: readonly DocumentPage[], budget: number): SelectedPage[] {
    return selectHeadAndTail(pages, budget, {
      imageTokens: this.settings.imageTokens,
      markerTokens: PAGE_MARKER_TOKENS,
    });
  }

  /**
   * The text model's head + tail selection, when it includes no page without text. A document made
   * only of such pages never asks for the text model's context, which may load that model.
   */
  private async textSelection(
    pages: readonly DocumentPage[],
  ): Promise<{ budget: number; selected: SelectedPage[]; needsVision: boolean } | undefined> {
    if (pages.every(({ needsVision }) => needsVision)) return undefined;
    const budget = await this.budget(this.settings.text);
    const selected = this.select(pages, budget);
    return { budget, selected, needsVision: selected.some(({ needsVision }) => needsVision) };
  }

  /** The model for a head + tail pass over `pages`: the vision model if any chosen page has no text. */
  private async firstSelection(
    pages: readonly DocumentPage[],
  ): Promise<{ slot: ModelSlot; budget: number; selected: SelectedPage[] }> {
    const text = await this.textSelection(pages);
    if (text && !text.needsVision) return { slot: this.settings.text, ...text };
    const budget = await this.budget(this.settings.vision);
    return { slot: this.settings.vision, budget, selected: this.select(pages, budget) };
  }

  /**
   * Which model the document's first pass goes to, so a run can send all vision documents before
   * all text ones: a host that keeps one just-in-time model then loads each model once instead of
   * swapping them by turns. (A page vote on a mixed document may still use both.)
   */
  async firstPassModel(document: LoadedDocument): Promise<"text" | "vision"> {
    // Deciding without a context where possible: asking for one may load the text model early.
    if (!document.pages.some(({ needsVision }) => needsVision)) return "text";
    const text = await this.textSelection(document.pages);
    return text && !text.needsVision ? "text" : "vision";
  }

  /** Head + tail of `pages` in one request, on the vision model if any chosen page has no text. */
  private async pass(
    document: LoadedDocument,
    pages: readonly DocumentPage[],
    signal?: AbortSignal,
  ): Promise<PassResult> {
    let { slot, budget, selected } = await this.firstSelection(pages);
    for (let attempt = 1; ; attempt++) {
      if (selected.length === 0) {
        throw new Error(
          `Not even one page fits the ${slot.label} model's context (${await slot.contextTokens()} tokens).`,
        );
      }
      const images = new Map<number, ImageContentPart>();
      for (const page of selected.filter(({ needsVision }) => needsVision)) {
        images.set(page.page, await document.pageImage(page.page));
      }
      const messages = classificationMessages(
        this.settings.categories,
        selected,
        document.pages.length,
        images,
      );
      try {
        const result = await classifyWith(slot, this.settings.schema, messages, signal);
        return {
          vote: {
            page: selected.length === 1 ? selected[0]!.page : undefined,
            classification: result.classification,
          },
          pages: selected,
          vision: images.size > 0,
          inputTokens: result.inputTokens,
          outputTokens: result.outputTokens,
          requests: result.requests,
        };
      } catch (error) {
        if (attempt > 1 || !ContextOverflowError.isInstance(error)) throw error;
        budget = Math.floor(budget * OVERFLOW_RETRY_SHARE);
        selected = this.select(pages, budget);
      }
    }
  }

  /** Up to maxVotePages pages, spread evenly from first to last. */
  private votePages(pageCount: number): number[] {
    const count = Math.min(pageCount, this.settings.maxVotePages);
    if (count <= 1) return [1];
    const step = (pageCount - 1) / (count - 1);
    return [...new Set(Array.from({ length: count }, (_, i) => 1 + Math.round(i * step)))];
  }

  async classify(document: LoadedDocument, signal?: AbortSignal): Promise<DocumentClassification> {
    const first = await this.pass(document, document.pages, signal);
    const passes = [first];
    let method: Method =
      first.pages.length === document.pages.length && first.pages.every((page) => !page.truncated)
        ? "whole"
        : "head+tail";
    let outcome: { category: string; confidence: number; strongest: PageVote } = {
      category: first.vote.classification.category,
      confidence: first.vote.classification.confidence,
      strongest: first.vote,
    };
    if (first.vote.classification.confidence < this.settings.voteBelow && document.pages.length > 1) {
      for (const page of this.votePages(document.pages.length)) {
        passes.push(await this.pass(document, [document.pages[page - 1]!], signal));
      }
      outcome = tallyVotes(passes.map(({ vote }) => vote));
      method = "page-vote";
    }
    return this.describe(document, outcome, passes, method);
  }

  private describe(
    document: LoadedDocument,
    outcome: { category: string; confidence: number; strongest: PageVote },
    passes: readonly PassResult[],
    method: Method,
  ): DocumentClassification {
    const best: Classification = outcome.strongest.classification;
    const evidence = findEvidence(
      document.pages,
      best.evidence.quote,
      outcome.strongest.page ?? best.evidence.page,
    );
    const sum = (pick: (pass: PassResult) => number) => passes.reduce((total, pass) => total + pick(pass), 0);
    return {
      category: outcome.category,
      confidence: Math.round(outcome.confidence * 1000) / 1000,
      reason: best.reason,
      evidenceQuote: best.evidence.quote,
      evidencePage: evidence.page,
      evidenceVerified: evidence.verified,
      pagesUsed: [...new Set(passes.flatMap(({ pages }) => pages.map(({ page }) => page)))].sort(
        (a, b) => a - b,
      ),
      pageCount: document.pages.length,
      method,
      visionUsed: passes.some(({ vision }) => vision),
      inputTokens: sum(({ inputTokens }) => inputTokens),
      outputTokens: sum(({ outputTokens }) => outputTokens),
      requests: sum(({ requests }) => requests),
    };
  }
}
