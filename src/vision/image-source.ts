import { readFile, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { LMStudioImageInputError } from "./errors.js";

/** A file path, a `file:`/`http(s):` URL, a `data:` URL, or the bytes themselves. */
export type ImageInput = string | URL | Uint8Array;

export interface ImageSourceOptions {
  /** Largest input accepted, in bytes, checked before reading or downloading it all (default 50 MiB). */
  maxInputBytes?: number;
  /** Time limit for downloading an http(s) URL in milliseconds (default 30000). */
  downloadTimeoutMs?: number;
  fetch?: typeof fetch;
}

export const DEFAULT_MAX_INPUT_BYTES = 50 * 1024 * 1024;
const DEFAULT_DOWNLOAD_TIMEOUT_MS = 30_000;

function tooLarge(what: string, bytes: number | string, limit: number): LMStudioImageInputError {
  return new LMStudioImageInputError(
    "too-large",
    `${what} is ${bytes} bytes, over the ${limit}-byte limit (maxInputBytes). Shrink it first or raise the limit.`,
  );
}

function describe(input: string): string {
  return input.length > 80 ? `${input.slice(0, 77)}...` : input;
}

function fromDataUrl(url: string, limit: number): Uint8Array {
  const match = /^data:([^,]*?),(.*)$/s.exec(url);
  if (!match)
    throw new LMStudioImageInputError("corrupt", "The data URL has no comma separating header and data.");
  const [, header = "", payload = ""] = match;
  const isBase64 = /;base64$/i.test(header);
  // Decoded size is about ¾ of the base64 length: refuse before allocating the decoded buffer.
  const estimated = isBase64 ? Math.floor((payload.length * 3) / 4) : payload.length;
  if (estimated > limit) throw tooLarge("The data URL", `about ${estimated}`, limit);
  return isBase64 ? Buffer.from(payload, "base64") : Buffer.from(decodeURIComponent(payload), "latin1");
}

async function fromFile(path: string, limit: number): Promise<Uint8Array> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    throw new LMStudioImageInputError("not-found", `Cannot read image file "${path}".`, { cause: error });
  }
  if (size > limit) throw tooLarge(`The file "${path}"`, size, limit);
  return readFile(path);
}

/** Reads the body chunk by chunk and stops as soon as it passes the limit. */
async function fromHttp(url: string, options: ImageSourceOptions, limit: number): Promise<Uint8Array> {
  const timeoutMs = options.downloadTimeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await (options.fetch ?? fetch)(url, { signal: controller.signal });
    if (!response.ok) {
      throw new LMStudioImageInputError(
        "download-failed",
        `Downloading ${describe(url)} failed with HTTP ${response.status}.`,
      );
    }
    const declared = Number(response.headers.get("content-length"));
    if (Number.isFinite(declared) && declared > limit)
      throw tooLarge(`The image at ${describe(url)}`, declared, limit);
    const chunks: Uint8Array[] = [];
    let received = 0;
    if (response.body) {
      for await (const chunk of response.body) {
        received += chunk.byteLength;
        if (received > limit) {
          controller.abort();
          throw tooLarge(`The image at ${describe(url)}`, `more than ${limit}`, limit);
        }
        chunks.push(chunk);
      }
    }
    return Buffer.concat(chunks);
  } catch (error) {
    if (error instanceof LMStudioImageInputError) throw error;
    const reason = controller.signal.aborted ? `timed out after ${timeoutMs} ms` : String(error);
    throw new LMStudioImageInputError("download-failed", `Downloading ${describe(url)} failed: ${reason}.`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The raw bytes of an image input, within the size limit. LM Studio does not fetch http(s) URLs
 * itself (it only accepts base64 data URLs), so remote images are downloaded here.
 */
export async function readImageBytes(
  input: ImageInput,
  options: ImageSourceOptions = {},
): Promise<Uint8Array> {
  const limit = options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
  if (input instanceof Uint8Array) {
    if (input.byteLength > limit) throw tooLarge("The image", input.byteLength, limit);
    return input;
  }
  const text = input instanceof URL ? input.href : input;
  if (/^data:/i.test(text)) return fromDataUrl(text, limit);
  if (/^https?:\/\//i.test(text)) return fromHttp(text, options, limit);
  if (/^file:\/\//i.test(text)) return fromFile(fileURLToPath(text), limit);
  return fromFile(text, limit);
}
