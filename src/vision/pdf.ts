import { LMStudioImageInputError } from "./errors.js";
import { type ImageInput, type ImageSourceOptions, readImageBytes } from "./image-source.js";
import { loadCanvas, loadUnpdf } from "./optional-dependencies.js";

/**
 * PDF pages for a vision pipeline: the text layer where there is one, PNG renderings for the pages
 * that have none (scans), so only those go to the VLM.
 */

/** A file path, a `file:`/`http(s):`/`data:` URL, or the PDF's bytes. */
export type PdfInput = ImageInput;

export interface PdfReadOptions extends ImageSourceOptions {
  /**
   * Most pages read or rendered in one call (default 200): a tiny file can declare thousands of
   * pages, each costing time (and a canvas when rendered).
   */
  maxPages?: number;
}

export interface PdfPageImagesOptions extends PdfReadOptions {
  /** 1-based page numbers to render (default: every page). */
  pages?: number[];
  /** Render scale: 1 = 72 dpi (default 2, about 144 dpi, enough for a VLM to read body text). */
  scale?: number;
  /**
   * Largest page rendering, in pixels, checked from the page size before any canvas is allocated
   * (default 40 million: an A0 page at the default scale; 4 bytes per pixel while rendering).
   */
  maxPagePixels?: number;
}

export interface PdfPageImage {
  /** 1-based page number. */
  page: number;
  png: Buffer;
}

export interface PdfPageText {
  /** 1-based page number. */
  page: number;
  text: string;
}

type PDFDocumentProxy = Awaited<ReturnType<Awaited<ReturnType<typeof loadUnpdf>>["getDocumentProxy"]>>;

type UnpdfCanvasModule = Awaited<
  ReturnType<
    NonNullable<
      NonNullable<Parameters<Awaited<ReturnType<typeof loadUnpdf>>["renderPageAsImage"]>[2]>["canvasImport"]
    >
  >
>;

const DEFAULT_SCALE = 2;
export const DEFAULT_MAX_PAGE_PIXELS = 40_000_000;
export const DEFAULT_MAX_PAGES = 200;
/** A page with fewer non-space characters than this has no usable text layer (a stray page number). */
const DEFAULT_MIN_TEXT_CHARACTERS = 20;

async function openPdf(input: PdfInput, options: PdfReadOptions): Promise<PDFDocumentProxy> {
  const bytes = await readImageBytes(input, options);
  if (Buffer.from(bytes.subarray(0, 5)).toString("latin1") !== "%PDF-") {
    throw new LMStudioImageInputError("unsupported", "Not a PDF: the bytes do not start with %PDF-.");
  }
  const { getDocumentProxy } = await loadUnpdf();
  try {
    // pdf.js takes ownership of (detaches) the buffer it is given: hand it a copy.
    return await getDocumentProxy(new Uint8Array(bytes));
  } catch (error) {
    throw new LMStudioImageInputError("corrupt", `The PDF cannot be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Frees pdf.js's worker-side document. Through the loading task: newer pdf.js builds (unpdf 1.8) dropped
 * `PDFDocumentProxy.destroy()`, which the optional peer range `unpdf >=1.0.0` lets users install.
 */
function closePdf(document: PDFDocumentProxy): Promise<void> {
  return document.loadingTask.destroy();
}

/** Throws a typed error naming the valid range unless every page number exists in the PDF. */
export function checkPageNumbers(pages: readonly number[], pageCount: number): void {
  for (const page of pages) {
    if (!Number.isInteger(page) || page < 1 || page > pageCount) {
      throw new LMStudioImageInputError(
        "not-found",
        `Page ${page} does not exist: the PDF has ${pageCount} page${pageCount === 1 ? "" : "s"} ` +
          `(valid pages: 1 to ${pageCount}).`,
      );
    }
  }
}

function checkPageCount(count: number, options: PdfReadOptions, what: string): void {
  const limit = options.maxPages ?? DEFAULT_MAX_PAGES;
  if (count > limit) {
    throw new LMStudioImageInputError(
      "too-large",
      `${what} ${count} pages, over the ${limit}-page limit (maxPages). Pick pages with \`pages\` or raise the limit.`,
    );
  }
}

function checkedPages(document: PDFDocumentProxy, options: PdfPageImagesOptions): number[] {
  if (options.pages) checkPageNumbers(options.pages, document.numPages);
  const pages = options.pages ?? Array.from({ length: document.numPages }, (_, i) => i + 1);
  checkPageCount(pages.length, options, "Rendering would take");
  return pages;
}

/** Each page's text layer, in page order (empty for scanned pages). */
export async function pdfText(pdf: PdfInput, options: PdfReadOptions = {}): Promise<PdfPageText[]> {
  const document = await openPdf(pdf, options);
  try {
    checkPageCount(document.numPages, options, "The PDF has");
    const { extractText } = await loadUnpdf();
    const { text } = await extractText(document, { mergePages: false });
    return text.map((pageText, i) => ({ page: i + 1, text: pageText }));
  } finally {
    await closePdf(document);
  }
}

/** Page numbers whose text layer is missing or too thin to use: the ones to send to a VLM. */
export function pagesWithoutText(
  pages: PdfPageText[],
  minCharacters: number = DEFAULT_MIN_TEXT_CHARACTERS,
): number[] {
  return pages.filter(({ text }) => text.replace(/\s+/g, "").length < minCharacters).map(({ page }) => page);
}

/** Renders pages to PNG (pdf.js through unpdf, drawn on @napi-rs/canvas). */
export async function pdfToImages(
  pdf: PdfInput,
  options: PdfPageImagesOptions = {},
): Promise<PdfPageImage[]> {
  const document = await openPdf(pdf, options);
  try {
    const pages = checkedPages(document, options);
    const scale = options.scale ?? DEFAULT_SCALE;
    // A page can declare any size (14400 pt square is legal): refuse before the canvas is allocated.
    const limit = options.maxPagePixels ?? DEFAULT_MAX_PAGE_PIXELS;
    for (const page of pages) {
      const { width, height } = (await document.getPage(page)).getViewport({ scale });
      const pixels = Math.ceil(width) * Math.ceil(height);
      if (pixels > limit) {
        throw new LMStudioImageInputError(
          "too-large",
          `Page ${page} would render at ${Math.ceil(width)}×${Math.ceil(height)} (${pixels} pixels) at scale ${scale}, ` +
            `over the ${limit}-pixel limit (maxPagePixels). Lower \`scale\` or raise the limit.`,
        );
      }
    }
    const { renderPageAsImage } = await loadUnpdf();
    // Resolved here so a missing canvas gets our install hint rather than unpdf's.
    const canvas = await loadCanvas();
    const images: PdfPageImage[] = [];
    for (const page of pages) {
      const png = await renderPageAsImage(document, page, {
        // unpdf types the module as its CommonJS shape (with `default`); the ESM namespace we imported
        // is the same module at run time, which unpdf reads through either form.
        canvasImport: async () => canvas as unknown as UnpdfCanvasModule,
        scale,
      });
      images.push({ page, png: Buffer.from(png) });
    }
    return images;
  } finally {
    await closePdf(document);
  }
}
