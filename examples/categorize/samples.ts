import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PDFDocument, type PDFFont, StandardFonts } from "pdf-lib";
import sharp from "sharp";
import {
  IMAGE_SAMPLE,
  PLAIN_TEXT_SAMPLES,
  type SampleText,
  SCANNED_PDF_SAMPLE,
  TEXT_PDF_SAMPLES,
} from "./sample-content.js";

/**
 * Writes the sample set the demo and the smoke test run on: text PDFs, plain text and Markdown,
 * an image-only "scanned" PDF page, a photographed receipt, and labels.json with the true
 * category of each file. Everything is generated, so the repository holds no binary fixtures.
 */

export const LABELS_FILE = "labels.json";

const PAGE_WIDTH = 612; // US Letter, points
const PAGE_HEIGHT = 792;
const MARGIN = 54;
const FONT_SIZE = 10;
const LINE_HEIGHT = 13;

function wrap(line: string, font: PDFFont, width: number): string[] {
  if (!line) return [""];
  const out: string[] = [];
  let current = "";
  for (const word of line.split(/(?<= )/)) {
    if (current && font.widthOfTextAtSize(current + word, FONT_SIZE) > width) {
      out.push(current.trimEnd());
      current = "";
    }
    current += word;
  }
  out.push(current.trimEnd());
  return out;
}

/** Each source page starts a PDF page; text that runs over continues on the next one. */
async function textPdf(pages: readonly string[]): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Courier);
  const linesPerPage = Math.floor((PAGE_HEIGHT - 2 * MARGIN) / LINE_HEIGHT);
  for (const text of pages) {
    const lines = text.split("\n").flatMap((line) => wrap(line, font, PAGE_WIDTH - 2 * MARGIN));
    for (let start = 0; start < lines.length; start += linesPerPage) {
      const page = pdf.addPage([PAGE_WIDTH, PAGE_HEIGHT]);
      lines.slice(start, start + linesPerPage).forEach((line, i) => {
        page.drawText(line, {
          x: MARGIN,
          y: PAGE_HEIGHT - MARGIN - (i + 1) * LINE_HEIGHT,
          size: FONT_SIZE,
          font,
        });
      });
    }
  }
  return pdf.save();
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Text drawn into pixels: slightly tilted, off-white and soft, like a photocopy or a phone photo. */
async function paperImage(
  lines: readonly string[],
  width: number,
  height: number,
  tilt: number,
): Promise<Buffer> {
  const text = lines
    .map((line, i) => `<text x="70" y="${110 + i * 44}" xml:space="preserve">${escapeXml(line)}</text>`)
    .join("");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect width="100%" height="100%" fill="#f3efe4"/>
    <g font-family="DejaVu Sans Mono, monospace" font-size="26" fill="#2b2b2b">${text}</g>
  </svg>`;
  return sharp(Buffer.from(svg))
    .rotate(tilt, { background: "#d9d4c7" })
    .blur(0.6)
    .grayscale()
    .png()
    .toBuffer();
}

/** One page holding nothing but a picture of text: no text layer, so only a vision model can read it. */
async function scannedPdf(lines: readonly string[]): Promise<Uint8Array> {
  const png = await paperImage(lines, 1275, 1650, 0.8);
  const pdf = await PDFDocument.create();
  const image = await pdf.embedPng(png);
  const page = pdf.addPage([PAGE_WIDTH, PAGE_HEIGHT]);
  page.drawImage(image, { x: 0, y: 0, width: PAGE_WIDTH, height: PAGE_HEIGHT });
  return pdf.save();
}

/** Plain text files mark page breaks with form feeds, as print-to-text tools do. */
function plainText(sample: SampleText): string {
  return sample.pages.join("\n\f");
}

export async function generateSamples(folder: string): Promise<Record<string, string>> {
  await mkdir(folder, { recursive: true });
  const labels: Record<string, string> = {};
  for (const sample of TEXT_PDF_SAMPLES) {
    await writeFile(join(folder, sample.file), await textPdf(sample.pages));
    labels[sample.file] = sample.label;
  }
  for (const sample of PLAIN_TEXT_SAMPLES) {
    await writeFile(join(folder, sample.file), plainText(sample));
    labels[sample.file] = sample.label;
  }
  await writeFile(join(folder, SCANNED_PDF_SAMPLE.file), await scannedPdf(SCANNED_PDF_SAMPLE.lines));
  labels[SCANNED_PDF_SAMPLE.file] = SCANNED_PDF_SAMPLE.label;
  await writeFile(join(folder, IMAGE_SAMPLE.file), await paperImage(IMAGE_SAMPLE.lines, 700, 520, -1.5));
  labels[IMAGE_SAMPLE.file] = IMAGE_SAMPLE.label;
  // Written last: its presence means the set is complete.
  await writeFile(join(folder, LABELS_FILE), `${JSON.stringify(labels, null, 2)}\n`);
  return labels;
}

/**
 * `count` distinct plain-text documents cycling through the sample texts (a numbered reference line
 * makes each file's content, and so its hash, unique), with a labels.csv: a larger set for the
 * distributed run's tests and benchmarks that costs no PDF or image work.
 */
export async function generateTextCorpus(folder: string, count: number): Promise<Record<string, string>> {
  await mkdir(folder, { recursive: true });
  const sources = [...TEXT_PDF_SAMPLES, ...PLAIN_TEXT_SAMPLES];
  const labels: Record<string, string> = {};
  const width = String(count).length;
  for (let i = 0; i < count; i++) {
    const source = sources[i % sources.length]!;
    const number = String(i + 1).padStart(width, "0");
    const file = `doc_${number}_${source.file.replace(/\.\w+$/, "")}.txt`;
    await writeFile(join(folder, file), `File reference ${number}\n\n${plainText(source)}`);
    labels[file] = source.label;
  }
  const rows = Object.entries(labels).map(([file, label]) => `${file},${label}`);
  // Written last: its presence means the set is complete.
  await writeFile(join(folder, "labels.csv"), `file,category\n${rows.join("\n")}\n`);
  return labels;
}

/** The true categories, when the folder has a labels.json. */
export async function readLabels(folder: string): Promise<Record<string, string> | undefined> {
  try {
    return JSON.parse(await readFile(join(folder, LABELS_FILE), "utf8")) as Record<string, string>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Generates the set unless a complete one (labels.json present) is already there. */
export async function ensureSamples(folder: string): Promise<boolean> {
  try {
    await access(join(folder, LABELS_FILE));
    return false;
  } catch {
    await generateSamples(folder);
    return true;
  }
}
