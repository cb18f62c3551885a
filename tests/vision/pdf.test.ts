import { describe, expect, it } from "vitest";
import {
  LMStudioImageInputError,
  pagesWithoutText,
  pdfText,
  pdfToImages,
  sniffImageKind,
  toImageContent,
} from "../../src/vision/index.js";
import { pixelAt } from "../fixtures/images.js";
import { makeTextAndScanPdf, TEXT_PAGE_SENTENCE } from "../fixtures/pdf.js";

describe("pdfText", () => {
  it("finds the text layer on page 1 only", async () => {
    const pages = await pdfText(await makeTextAndScanPdf());
    expect(pages.map(({ page }) => page)).toEqual([1, 2]);
    expect(pages[0]!.text).toContain(TEXT_PAGE_SENTENCE);
    expect(pages[1]!.text.trim()).toBe("");
    expect(pagesWithoutText(pages)).toEqual([2]);
  });

  it("treats a page with only a stray page number as having no usable text", () => {
    expect(
      pagesWithoutText([
        { page: 1, text: "12" },
        { page: 2, text: "A full paragraph of real words." },
      ]),
    ).toEqual([1]);
  });

  it("refuses bytes that are not a PDF, and a corrupt PDF", async () => {
    const notPdf = await pdfText(Buffer.from("hello")).catch((e: unknown) => e);
    expect(notPdf).toBeInstanceOf(LMStudioImageInputError);
    expect((notPdf as LMStudioImageInputError).problem).toBe("unsupported");
    const corrupt = await pdfText(Buffer.from("%PDF-1.7\n garbage with no objects")).catch((e: unknown) => e);
    expect(corrupt).toBeInstanceOf(LMStudioImageInputError);
    expect((corrupt as LMStudioImageInputError).problem).toBe("corrupt");
  });
});

describe("pdfToImages", () => {
  it("renders the scanned page 2 to a PNG that becomes an accepted data URL", async () => {
    const [image, ...rest] = await pdfToImages(await makeTextAndScanPdf(), { pages: [2], scale: 1 });
    expect(rest).toHaveLength(0);
    expect(image!.page).toBe(2);
    expect(sniffImageKind(image!.png)).toBe("png");
    // The embedded picture (red left half, blue right half) is in the rendering, at 72 dpi.
    const [r] = await pixelAt(image!.png, 97 + 50, 842 - 271 - 150);
    const [, , b] = await pixelAt(image!.png, 97 + 350, 842 - 271 - 150);
    expect(r).toBeGreaterThan(150);
    expect(b).toBeGreaterThan(150);

    const part = await toImageContent(image!.png);
    expect(part.image_url.url).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
  });

  it("renders every page by default, at the requested scale", async () => {
    const images = await pdfToImages(await makeTextAndScanPdf(), { scale: 0.5 });
    expect(images.map(({ page }) => page)).toEqual([1, 2]);
  });

  it("refuses a page that does not exist", async () => {
    const error = await pdfToImages(await makeTextAndScanPdf(), { pages: [3] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioImageInputError);
    expect((error as Error).message).toMatch(
      /Page 3 does not exist: the PDF has 2 pages \(valid pages: 1 to 2\)/,
    );
  });
});
