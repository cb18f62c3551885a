import type { Sharp } from "sharp";
import { decodeBmp } from "./bmp.js";
import { LMStudioImageInputError } from "./errors.js";
import { type ImageInput, type ImageSourceOptions, readImageBytes } from "./image-source.js";
import { loadSharp } from "./optional-dependencies.js";
import { type ImageKind, looksLikePdf, sniffImageKind } from "./sniff.js";

export interface ImageContentOptions extends ImageSourceOptions {
  /** Longest side sent to the model, in pixels (default 1568: larger only costs image tokens). */
  maxSide?: number;
  /** Most pixels sent to the model (default 1568 × 1568). */
  maxPixels?: number;
  /** Largest input accepted, in pixels, checked from the header before decoding (default 100 million). */
  maxInputPixels?: number;
  /** Output encoding; "auto" keeps PNG/JPEG and picks PNG or JPEG for other formats (default "auto"). */
  format?: "auto" | "png" | "jpeg";
  /** JPEG quality when re-encoding to JPEG (default 90). */
  jpegQuality?: number;
}

/** The OpenAI-style content part LM Studio accepts for images. */
export interface ImageContentPart {
  type: "image_url";
  image_url: { url: string };
}

export interface PreparedImage {
  mimeType: "image/png" | "image/jpeg";
  bytes: Uint8Array;
  width: number;
  height: number;
  /** The format sniffed from the input's bytes. */
  sourceKind: ImageKind;
  /** True when the bytes were decoded and re-encoded (conversion, downscale or EXIF rotation). */
  reencoded: boolean;
}

export const DEFAULT_MAX_SIDE = 1568;
const DEFAULT_MAX_INPUT_PIXELS = 100_000_000;
/** Formats whose content is usually photographic, so JPEG keeps them small without visible loss. */
const PHOTO_KINDS = new Set<ImageKind>(["webp", "heic", "avif"]);

function unrecognised(bytes: Uint8Array): LMStudioImageInputError {
  if (looksLikePdf(bytes)) {
    return new LMStudioImageInputError(
      "unsupported",
      "This is a PDF, not an image: render its pages with pdfToImages() (or use describeDocument).",
    );
  }
  const head = Buffer.from(bytes.subarray(0, 8)).toString("hex");
  return new LMStudioImageInputError(
    "unsupported",
    `Not a PNG, JPEG, WebP, GIF, BMP, TIFF, HEIC or AVIF image (first bytes: ${head || "none"}). ` +
      "The type is read from the bytes, not the file name.",
  );
}

function outputKind(
  sourceKind: ImageKind,
  hasAlpha: boolean,
  format: ImageContentOptions["format"],
): "png" | "jpeg" {
  if (format === "png" || format === "jpeg") return format;
  if (sourceKind === "png" || sourceKind === "jpeg") return sourceKind;
  return !hasAlpha && PHOTO_KINDS.has(sourceKind) ? "jpeg" : "png";
}

/** Scale factor (≤ 1) that brings the image within both the side and the pixel limit. */
function downscaleFactor(width: number, height: number, maxSide: number, maxPixels: number): number {
  return Math.min(1, maxSide / width, maxSide / height, Math.sqrt(maxPixels / (width * height)));
}

/** Rounded (6000 × 1568/6000 is 1567.9999…) but never over either limit. */
function scaledSize(
  size: { width: number; height: number },
  factor: number,
  maxSide: number,
  maxPixels: number,
): { width: number; height: number } {
  const round = (value: number) => Math.max(1, Math.min(maxSide, Math.round(value)));
  const rounded = { width: round(size.width * factor), height: round(size.height * factor) };
  if (rounded.width * rounded.height <= maxPixels) return rounded;
  return {
    width: Math.max(1, Math.floor(size.width * factor)),
    height: Math.max(1, Math.floor(size.height * factor)),
  };
}

/**
 * Sniffs, validates, converts and downscales an image so a local VLM accepts it: PNG or JPEG bytes
 * within the size limits. Every failure is an `LMStudioImageInputError` raised before any request.
 */
export async function prepareImage(
  input: ImageInput,
  options: ImageContentOptions = {},
): Promise<PreparedImage> {
  const maxSide = options.maxSide ?? DEFAULT_MAX_SIDE;
  const maxPixels = options.maxPixels ?? maxSide * maxSide;
  const maxInputPixels = options.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  const bytes = await readImageBytes(input, options);
  const sourceKind = sniffImageKind(bytes);
  if (!sourceKind) throw unrecognised(bytes);

  const sharp = await loadSharp();
  // failOn "truncated": a cut-off file is an error, not a half-grey image sent to the model.
  const decodeOptions = { limitInputPixels: maxInputPixels, failOn: "truncated" as const };
  const open = (forHeader = false): Sharp => {
    // The header read is not limited, so an oversized image gets our message with its size, not sharp's.
    if (sourceKind !== "bmp") return sharp(bytes, forHeader ? { limitInputPixels: false } : decodeOptions);
    const raw = decodeBmp(bytes, maxInputPixels);
    return sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } });
  };

  let metadata: Awaited<ReturnType<Sharp["metadata"]>>;
  try {
    metadata = await open(true).metadata();
  } catch (error) {
    if (error instanceof LMStudioImageInputError) throw error;
    throw new LMStudioImageInputError(
      sourceKind === "heic" ? "unsupported" : "corrupt",
      sourceKind === "heic"
        ? "This HEIC image cannot be decoded by the installed sharp (HEVC needs a libvips built with it). " +
            "Convert it to JPEG first."
        : `The ${sourceKind.toUpperCase()} image is corrupt or truncated: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const { width = 0, height = 0 } = metadata;
  if (width === 0 || height === 0) {
    throw new LMStudioImageInputError("corrupt", `The ${sourceKind.toUpperCase()} image has no dimensions.`);
  }
  if (width * height > maxInputPixels) {
    throw new LMStudioImageInputError(
      "too-large",
      `The image is ${width}×${height} (${width * height} pixels), over the ${maxInputPixels}-pixel limit ` +
        "(maxInputPixels). Shrink it first or raise the limit.",
    );
  }

  const oriented = metadata.autoOrient ?? { width, height };
  const factor = downscaleFactor(oriented.width, oriented.height, maxSide, maxPixels);
  const target = outputKind(sourceKind, metadata.hasAlpha === true, options.format);
  const rotated = (metadata.orientation ?? 1) !== 1;
  if (factor === 1 && !rotated && target === sourceKind) {
    // Already acceptable: send the original bytes, but decode them once so corruption is caught here.
    await decodeCheck(open(), sourceKind);
    return { mimeType: `image/${target}`, bytes, width, height, sourceKind, reencoded: false };
  }

  const { width: newWidth, height: newHeight } = scaledSize(oriented, factor, maxSide, maxPixels);
  let pipeline = open().autoOrient().resize(newWidth, newHeight, { fit: "fill" });
  pipeline =
    target === "png"
      ? pipeline.png()
      : pipeline.flatten({ background: "#ffffff" }).jpeg({ quality: options.jpegQuality ?? 90 });
  let output: Buffer;
  try {
    output = await pipeline.toBuffer();
  } catch (error) {
    throw new LMStudioImageInputError(
      "corrupt",
      `The ${sourceKind.toUpperCase()} image could not be decoded: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return {
    mimeType: `image/${target}`,
    bytes: output,
    width: newWidth,
    height: newHeight,
    sourceKind,
    reencoded: true,
  };
}

async function decodeCheck(image: Sharp, kind: ImageKind): Promise<void> {
  try {
    await image.raw().toBuffer();
  } catch (error) {
    throw new LMStudioImageInputError(
      "corrupt",
      `The ${kind.toUpperCase()} image is corrupt or truncated: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

export function toDataUrl(image: Pick<PreparedImage, "mimeType" | "bytes">): string {
  return `data:${image.mimeType};base64,${Buffer.from(image.bytes).toString("base64")}`;
}

/** An `image_url` content part with a base64 PNG or JPEG data URL, ready for a VLM message. */
export async function toImageContent(
  input: ImageInput,
  options: ImageContentOptions = {},
): Promise<ImageContentPart> {
  return { type: "image_url", image_url: { url: toDataUrl(await prepareImage(input, options)) } };
}
