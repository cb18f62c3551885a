import { type ContentBlock, HumanMessage, SystemMessage } from "@langchain/core/messages";
import type { ImageContentPart } from "../../src/vision/index.js";
import type { Category } from "./categories.js";
import type { SelectedPage } from "./page-selection.js";

/**
 * The messages for one classification. The label definitions live in the system message and the
 * user message holds only the document between page markers, so nothing but the document itself
 * points at a label; the instruction is repeated after the document because local models attend
 * most to the ends of a long prompt. The file name is never shown: names lie (invoice_final.pdf).
 */

export function systemPrompt(categories: readonly Category[]): string {
  const labels = categories
    .map(({ name, description, examples }) =>
      examples.length > 0
        ? `- ${name}: ${description} Examples: ${examples.join("; ")}.`
        : `- ${name}: ${description}`,
    )
    .join("\n");
  return [
    "You sort documents from legal and medical case files into exactly one category.",
    "",
    "Categories:",
    labels,
    "",
    "Rules:",
    "- Judge by what the document is, not by what it mentions.",
    "- The evidence quote must be copied word for word from the document; its page is the number in that page's marker.",
    "- Confidence below 0.5 means the pages you saw do not settle the category.",
    "- If you see only some pages, the markers say which ones.",
  ].join("\n");
}

/** Page marker: states the page and how many the document has, so partial views are explicit. */
function marker(page: SelectedPage, pageCount: number): string {
  const notes = [
    page.needsVision ? "scanned, shown in the image" : "",
    page.truncated ? "excerpt" : "",
  ].filter(Boolean);
  return `--- Page ${page.page} of ${pageCount}${notes.length ? ` (${notes.join(", ")})` : ""} ---`;
}

export const PAGE_MARKER_TOKENS = 16;

export function classificationMessages(
  categories: readonly Category[],
  pages: readonly SelectedPage[],
  pageCount: number,
  images: ReadonlyMap<number, ImageContentPart>,
): [SystemMessage, HumanMessage] {
  // OpenAI-style image_url parts are what LM Studio accepts; core passes them through unchanged.
  const content: ContentBlock[] = [];
  let text = "";
  const flushText = () => {
    if (text) content.push({ type: "text", text });
    text = "";
  };
  for (const page of pages) {
    text += `${marker(page, pageCount)}\n`;
    const image = images.get(page.page);
    if (image) {
      flushText();
      content.push({ ...image });
    } else {
      text += `${page.text.trim()}\n\n`;
    }
  }
  text += "Classify the document above, following the instructions.";
  flushText();
  return [new SystemMessage(systemPrompt(categories)), new HumanMessage({ content })];
}
