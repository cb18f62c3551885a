import { LMStudioImageInputError } from "./errors.js";

/**
 * A minimal BMP reader: sharp (libvips) cannot read BMP, and uncompressed 24/32-bit BMP is what
 * screenshot tools and scanners produce. Compressed or palette BMPs are refused with a clear error.
 */

export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 3;
}

/** Decodes the pixels, refusing more than `maxPixels` before allocating them. */
export function decodeBmp(bytes: Uint8Array, maxPixels: number): RawImage {
  if (bytes.length < 54)
    throw new LMStudioImageInputError("corrupt", "The BMP file is truncated (no header).");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pixelOffset = view.getUint32(10, true);
  const width = view.getInt32(18, true);
  const signedHeight = view.getInt32(22, true);
  const bitsPerPixel = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  // BI_RGB (0) always; BI_BITFIELDS (3) only for 32-bit, where writers use the standard BGRA masks.
  if (
    !(bitsPerPixel === 24 || bitsPerPixel === 32) ||
    !(compression === 0 || (compression === 3 && bitsPerPixel === 32))
  ) {
    throw new LMStudioImageInputError(
      "unsupported",
      `Only uncompressed 24- or 32-bit BMP is supported (this one is ${bitsPerPixel}-bit, compression ${compression}). ` +
        "Convert it to PNG first.",
    );
  }
  const height = Math.abs(signedHeight);
  if (width <= 0 || height === 0) throw new LMStudioImageInputError("corrupt", "The BMP header has no size.");
  if (width * height > maxPixels) {
    throw new LMStudioImageInputError(
      "too-large",
      `The BMP is ${width}×${height} (${width * height} pixels), over the ${maxPixels}-pixel limit (maxInputPixels).`,
    );
  }
  const bytesPerPixel = bitsPerPixel / 8;
  const stride = Math.ceil((width * bitsPerPixel) / 32) * 4;
  if (pixelOffset + stride * height > bytes.length) {
    throw new LMStudioImageInputError("corrupt", "The BMP file is truncated (pixel data ends early).");
  }
  const data = Buffer.alloc(width * height * 3);
  const bottomUp = signedHeight > 0;
  for (let y = 0; y < height; y++) {
    const row = pixelOffset + (bottomUp ? height - 1 - y : y) * stride;
    for (let x = 0; x < width; x++) {
      const source = row + x * bytesPerPixel;
      const target = (y * width + x) * 3;
      // Stored as BGR(A).
      data[target] = bytes[source + 2]!;
      data[target + 1] = bytes[source + 1]!;
      data[target + 2] = bytes[source]!;
    }
  }
  return { data, width, height, channels: 3 };
}
