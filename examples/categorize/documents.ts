import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import {
  type ImageContentPart,
  pagesWithoutText,
  pdfText,
  pdfToImages,
  toImageContent,
} from "../../src/vision/index.js";

/**
 * A file as pages: the unit every later step works in (page budgets, evidence page numbers, votes).
 * Pages without a usable text layer are marked for the vision model; they are rendered only when
 * a pass actually selects them, because rendering is the expensive part.
 */

export interface DocumentPage {
  /** 1-based. */
  page: number;
  text: string;
  /** No usable text: the page must be seen, not read. */
  needsVision: boolean;
}

export interface LoadedDocument {
  kind: "pdf" | "text" | "image";
  pages: DocumentPage[];
  /** The page as image content for a vision model. */
  pageImage(page: number): Promise<ImageContentPart>;
}

const PDF_EXTENSIONS = new Set([".pdf"]);
const TEXT_EXTENSIONS = new Set([".txt", ".md", ".markdown", ".text"]);
const IMAGE_EXTENSIONS = new Set([
  ".png",
  ".jpg",
  ".jpeg",
  ".webp",
  ".gif",
  ".bmp",
  ".tif",
  ".tiff",
  ".heic",
]);

/** Plain-text files have no pages; cut long ones near this size so head+tail still applies. */
const TEXT_PAGE_CHARACTERS = 3000;

export function isSupportedDocument(file: string): boolean {
  const extension = extname(file).toLowerCase();
  return PDF_EXTENSIONS.has(extension) || TEXT_EXTENSIONS.has(extension) || IMAGE_EXTENSIONS.has(extension);
}

/** Form feeds are real page breaks; otherwise paragraphs are packed into pages of about TEXT_PAGE_CHARACTERS. */
export function splitTextIntoPages(text: string): string[] {
  const pages: string[] = [];
  for (const sheet of text.split("\f")) {
    let current = "";
    for (const paragraph of sheet.split(/\n{2,}/)) {
      if (current && current.length + paragraph.length > TEXT_PAGE_CHARACTERS) {
        pages.push(current);
        current = "";
      }
      current = current ? `${current}\n\n${paragraph}` : paragraph;
    }
    if (current.trim()) pages.push(current);
  }
  return pages.length > 0 ? pages : [""];
}

async function loadPdf(bytes: Uint8Array): Promise<LoadedDocument> {
  const texts = await pdfText(bytes);
  const withoutText = new Set(pagesWithoutText(texts));
  return {
    kind: "pdf",
    pages: texts.map(({ page, text }) => ({ page, text, needsVision: withoutText.has(page) })),
    async pageImage(page) {
      const [rendered] = await pdfToImages(bytes, { pages: [page] });
      if (!rendered) throw new Error(`Page ${page} could not be rendered.`);
      return toImageContent(rendered.png);
    },
  };
}

function loadText(text: string): LoadedDocument {
  return {
    kind: "text",
    pages: splitTextIntoPages(text).map((pageText, i) => ({
      page: i + 1,
      text: pageText,
      needsVision: false,
    })),
    async pageImage(page) {
      throw new Error(`Page ${page} of a text file has no image.`);
    },
  };
}

function loadImage(bytes: Uint8Array): LoadedDocument {
  return {
    kind: "image",
    pages: [{ page: 1, text: "", needsVision: true }],
    pageImage: () => toImageContent(bytes),
  };
}

export async function loadDocument(path: string): Promise<LoadedDocument> {
  const extension = extname(path).toLowerCase();
  const bytes = new Uint8Array(await readFile(path));
  if (PDF_EXTENSIONS.has(extension)) return loadPdf(bytes);
  if (TEXT_EXTENSIONS.has(extension)) return loadText(new TextDecoder().decode(bytes));
  if (IMAGE_EXTENSIONS.has(extension)) return loadImage(bytes);
  throw new Error(`Unsupported file type ${extension || "(none)"}.`);
}
