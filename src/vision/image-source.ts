import { constants, type Stats } from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";
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

/** What a non-regular file is, for the refusal message. */
function fileKind(info: Stats): string {
  if (info.isDirectory()) return "a directory";
  if (info.isFIFO()) return "a FIFO (named pipe)";
  if (info.isCharacterDevice()) return "a character device";
  if (info.isBlockDevice()) return "a block device";
  if (info.isSocket()) return "a socket";
  return "not a regular file";
}

const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * A regular file's bytes, refusing anything else before reading: devices report size 0 and never end
 * (/dev/zero), and opening a FIFO with no writer blocks a libuv thread for good. The file is opened
 * non-blocking and checked again through the handle (the path may change after `stat`), and the
 * bytes actually read are counted against the limit, since `size` can lie.
 */
async function fromFile(path: string, limit: number): Promise<Uint8Array> {
  let handle: FileHandle;
  try {
    const info = await stat(path);
    if (!info.isFile()) {
      throw new LMStudioImageInputError(
        "unsupported",
        `"${path}" is ${fileKind(info)}, not a regular file: pass an image or PDF file.`,
      );
    }
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    if (error instanceof LMStudioImageInputError) throw error;
    throw new LMStudioImageInputError("not-found", `Cannot read image file "${path}".`, { cause: error });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new LMStudioImageInputError(
        "unsupported",
        `"${path}" is ${fileKind(info)}, not a regular file: pass an image or PDF file.`,
      );
    }
    if (info.size > limit) throw tooLarge(`The file "${path}"`, info.size, limit);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, limit + 1 - total));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > limit) throw tooLarge(`The file "${path}"`, `more than ${limit}`, limit);
      chunks.push(buffer.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total);
  } finally {
    await handle.close();
  }
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
