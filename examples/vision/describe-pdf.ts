/**
 * Describing a PDF with the vision model: a two-page PDF is generated at run time (page 1 has a
 * text layer, page 2 is only a picture of a bill, as a scanner makes it). LMStudioVision sends page 1
 * as text and renders page 2 to an image for the VLM, after checking the model can see.
 */
import { PDFDocument, StandardFonts } from "pdf-lib";
import sharp from "sharp";
import { z } from "zod";
import { LMStudioVision } from "../../src/vision/index.js";
import { lmStudioOrSimulator } from "../lmstudio-or-simulator.js";

const A4 = [595, 842] as const;
const COVER_LETTER = [
  "Dear Ms. Doe,",
  "Please find enclosed the bill for your visit to City Hospital on 3 March 2024.",
  "Kind regards, Billing Department",
];
const SCANNED_BILL = [
  "CITY HOSPITAL - BILL 4471",
  "Emergency room visit    850.00",
  "X-ray, left wrist       240.00",
  "TOTAL DUE              1090.00",
];

const PageSummary = z.object({
  documentType: z.enum(["bill", "letter", "medical record", "court filing", "other"]),
  summary: z.string().describe("one sentence"),
});

/** A page image with text drawn in pixels only (SVG rendered by sharp), so nothing can read it but a VLM. */
async function scannedPage(lines: readonly string[]): Promise<Buffer> {
  const text = lines
    .map((line, i) => `<text x="60" y="${120 + i * 48}" xml:space="preserve">${line}</text>`)
    .join("");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1190" height="1684">
    <rect width="100%" height="100%" fill="#f5f2ea"/>
    <g font-family="DejaVu Sans Mono, monospace" font-size="30" fill="#222">${text}</g></svg>`;
  return sharp(Buffer.from(svg)).grayscale().png().toBuffer();
}

export async function makeSamplePdf(): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const letter = pdf.addPage([...A4]);
  COVER_LETTER.forEach((line, i) => {
    letter.drawText(line, { x: 60, y: 760 - i * 22, size: 12, font });
  });
  const scan = pdf.addPage([...A4]);
  scan.drawImage(await pdf.embedPng(await scannedPage(SCANNED_BILL)), {
    x: 0,
    y: 0,
    width: A4[0],
    height: A4[1],
  });
  return pdf.save();
}

export interface VisionOptions {
  baseUrl?: string;
  log?: (line: string) => void;
}

export interface VisionResult {
  simulated: boolean;
  model: string;
  pdfBytes: number;
  pages: Array<{ page: number; via: "text" | "image"; documentType: string; summary: string }>;
}

export async function run(options: VisionOptions = {}): Promise<VisionResult> {
  const server = await lmStudioOrSimulator({
    ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  try {
    const model = server.pick("vision");
    if (!model) throw new Error(`No vision model at ${server.baseUrl}; set LMSTUDIO_VISION_MODEL.`);
    const vision = new LMStudioVision({
      model,
      baseUrl: server.baseUrl,
      ...(server.apiKey !== undefined ? { apiKey: server.apiKey } : {}),
      chat: { temperature: 0, maxTokens: 300 },
    });
    const pdf = await makeSamplePdf();
    const pages = await vision.describeDocument(pdf, {
      schema: PageSummary,
      prompt: "What kind of document is this page (a bill, a letter, …)? Summarise it in one sentence.",
    });
    return {
      simulated: server.simulated,
      model,
      pdfBytes: pdf.byteLength,
      pages: pages.map(({ page, via, output }) => ({
        page,
        via,
        documentType: String(output.documentType),
        summary: String(output.summary),
      })),
    };
  } finally {
    await server.close();
  }
}
