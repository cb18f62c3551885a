/**
 * Groups consecutive texts into requests of at most `maxTexts` texts and about `maxBytes` of JSON, so
 * order is preserved by construction and no request outgrows the server's body limit.
 */

export interface BatchLimits {
  maxTexts: number;
  maxBytes: number;
}

/** Bytes of the request around the `input` array: model name, encoding_format, dimensions. */
const ENVELOPE_BYTES = 512;

/** Half-open index ranges [start, end) into `texts`, in order, covering every text once. */
export function planBatches(texts: string[], limits: BatchLimits): Array<[number, number]> {
  const maxTexts = Math.max(1, Math.floor(limits.maxTexts));
  const batches: Array<[number, number]> = [];
  let start = 0;
  let bytes = ENVELOPE_BYTES;
  texts.forEach((text, index) => {
    // JSON-encoded size plus the separating comma; escapes make it larger than the raw text.
    const textBytes = Buffer.byteLength(JSON.stringify(text), "utf8") + 1;
    const count = index - start;
    if (count > 0 && (count >= maxTexts || bytes + textBytes > limits.maxBytes)) {
      batches.push([start, index]);
      start = index;
      bytes = ENVELOPE_BYTES;
    }
    bytes += textBytes;
  });
  if (texts.length > start) batches.push([start, texts.length]);
  return batches;
}
