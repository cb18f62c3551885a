import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LMStudioImageInputError,
  prepareImage,
  sniffImageKind,
  toImageContent,
} from "../../src/vision/index.js";
import {
  makeAvif,
  makeBmp,
  makeFakeHeic,
  makeGif,
  makeJpeg,
  makeLargeJpeg,
  makePng,
  makeTiff,
  makeTransparentWebp,
  makeTruncatedJpeg,
  makeWebp,
  pixelAt,
} from "../fixtures/images.js";

function decodeDataUrl(url: string): { mime: string; bytes: Buffer } {
  const match = /^data:(image\/(?:png|jpeg));base64,([A-Za-z0-9+/=]+)$/.exec(url);
  if (!match) throw new Error(`not a base64 PNG/JPEG data URL: ${url.slice(0, 40)}`);
  return { mime: match[1]!, bytes: Buffer.from(match[2]!, "base64") };
}

/** Red on the left, blue on the right survived the conversion. */
async function expectHalves(bytes: Uint8Array, width: number, height: number) {
  const [r1, , b1] = await pixelAt(bytes, 2, Math.floor(height / 2));
  const [r2, , b2] = await pixelAt(bytes, width - 3, Math.floor(height / 2));
  expect(r1).toBeGreaterThan(150);
  expect(b1).toBeLessThan(90);
  expect(b2).toBeGreaterThan(150);
  expect(r2).toBeLessThan(90);
}

async function errorOf(promise: Promise<unknown>): Promise<LMStudioImageInputError> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(LMStudioImageInputError);
  return error as LMStudioImageInputError;
}

describe("sniffImageKind", () => {
  it("reads the type from the bytes", async () => {
    expect(sniffImageKind(await makePng())).toBe("png");
    expect(sniffImageKind(await makeJpeg())).toBe("jpeg");
    expect(sniffImageKind(await makeWebp())).toBe("webp");
    expect(sniffImageKind(await makeGif())).toBe("gif");
    expect(sniffImageKind(await makeTiff())).toBe("tiff");
    expect(sniffImageKind(makeBmp())).toBe("bmp");
    expect(sniffImageKind(Buffer.from("hello world"))).toBeUndefined();
  });
});

describe("toImageContent", () => {
  it("passes a small PNG through unchanged", async () => {
    const png = await makePng();
    const part = await toImageContent(png);
    expect(part.type).toBe("image_url");
    const { mime, bytes } = decodeDataUrl(part.image_url.url);
    expect(mime).toBe("image/png");
    expect(bytes.equals(png)).toBe(true);
  });

  it("passes a small JPEG through unchanged", async () => {
    const jpeg = await makeJpeg();
    const { mime, bytes } = decodeDataUrl((await toImageContent(jpeg)).image_url.url);
    expect(mime).toBe("image/jpeg");
    expect(bytes.equals(jpeg)).toBe(true);
  });

  it("converts an opaque WebP photo to JPEG and keeps the picture", async () => {
    const { mime, bytes } = decodeDataUrl((await toImageContent(await makeWebp())).image_url.url);
    expect(mime).toBe("image/jpeg");
    expect(sniffImageKind(bytes)).toBe("jpeg");
    await expectHalves(bytes, 64, 48);
  });

  it("converts a WebP with transparency to PNG", async () => {
    const { mime } = decodeDataUrl((await toImageContent(await makeTransparentWebp())).image_url.url);
    expect(mime).toBe("image/png");
  });

  it("converts GIF, TIFF and BMP to PNG", async () => {
    for (const image of [await makeGif(), await makeTiff(), makeBmp()]) {
      const { mime, bytes } = decodeDataUrl((await toImageContent(image)).image_url.url);
      expect(mime).toBe("image/png");
      const info = await sharp(bytes).metadata();
      expect([info.width, info.height]).toEqual([64, 48]);
      await expectHalves(bytes, 64, 48);
    }
  });

  it("converts an AVIF photo to JPEG", async () => {
    const avif = await makeAvif();
    expect(sniffImageKind(avif)).toBe("avif");
    const { mime, bytes } = decodeDataUrl((await toImageContent(avif)).image_url.url);
    expect(mime).toBe("image/jpeg");
    await expectHalves(bytes, 64, 48);
  });

  it("refuses an HEIC that cannot be decoded with a hint to convert it", async () => {
    const heic = makeFakeHeic();
    expect(sniffImageKind(heic)).toBe("heic");
    const error = await errorOf(toImageContent(heic));
    expect(error.problem).toBe("unsupported");
    expect(error.message).toMatch(/HEIC/);
  });

  it("downscales a 6000×4000 JPEG to maxSide, keeping the aspect ratio", async () => {
    const prepared = await prepareImage(await makeLargeJpeg());
    expect(prepared.mimeType).toBe("image/jpeg");
    expect([prepared.width, prepared.height]).toEqual([1568, 1045]);
    const info = await sharp(prepared.bytes).metadata();
    expect([info.width, info.height]).toEqual([1568, 1045]);
    expect(prepared.reencoded).toBe(true);
  });

  it("honours maxPixels as well as maxSide", async () => {
    const prepared = await prepareImage(await makePng(400, 400), { maxSide: 1000, maxPixels: 10_000 });
    expect([prepared.width, prepared.height]).toEqual([100, 100]);
  });

  it("sniffs the type instead of trusting the file name", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lmstudio-vision-"));
    try {
      const path = join(dir, "photo.png");
      await writeFile(path, await makeWebp());
      const { mime } = decodeDataUrl((await toImageContent(path)).image_url.url);
      expect(mime).toBe("image/jpeg");
      const fileUrl = new URL(`file://${path}`);
      expect(decodeDataUrl((await toImageContent(fileUrl)).image_url.url).mime).toBe("image/jpeg");
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it("accepts a data URL and re-encodes a webp one", async () => {
    const webpUrl = `data:image/webp;base64,${(await makeWebp()).toString("base64")}`;
    expect(decodeDataUrl((await toImageContent(webpUrl)).image_url.url).mime).toBe("image/jpeg");
  });

  it("refuses a truncated JPEG as corrupt", async () => {
    const error = await errorOf(toImageContent(await makeTruncatedJpeg()));
    expect(error.problem).toBe("corrupt");
  });

  it("refuses bytes that are not an image, and points PDFs to pdfToImages", async () => {
    expect((await errorOf(toImageContent(Buffer.from("just some text")))).problem).toBe("unsupported");
    const pdfError = await errorOf(toImageContent(Buffer.from("%PDF-1.7\n...")));
    expect(pdfError.message).toMatch(/pdfToImages/);
  });

  it("refuses inputs over the byte limit before decoding", async () => {
    const error = await errorOf(toImageContent(await makePng(), { maxInputBytes: 100 }));
    expect(error.problem).toBe("too-large");
    expect(error.message).toMatch(/100-byte limit/);
  });

  it("refuses images over the pixel limit from their header", async () => {
    const error = await errorOf(toImageContent(await makeLargeJpeg(), { maxInputPixels: 10_000_000 }));
    expect(error.problem).toBe("too-large");
    expect(error.message).toMatch(/6000×4000/);
  });

  it("reports a missing file", async () => {
    expect((await errorOf(toImageContent("/nonexistent/image.png"))).problem).toBe("not-found");
  });
});

describe("toImageContent over http", () => {
  let server: Server;
  let origin: string;
  let png: Buffer;

  beforeAll(async () => {
    png = await makePng();
    server = createServer((request, response) => {
      if (request.url === "/image.webp") {
        makeWebp().then((webp) => response.end(webp));
      } else if (request.url === "/big") {
        response.writeHead(200);
        response.end(Buffer.alloc(5000));
      } else if (request.url === "/slow") {
        setTimeout(() => response.end(png), 2000);
      } else {
        response.writeHead(404);
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    origin = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("downloads and converts", async () => {
    const { mime } = decodeDataUrl((await toImageContent(`${origin}/image.webp`)).image_url.url);
    expect(mime).toBe("image/jpeg");
  });

  it("stops a download over the size limit", async () => {
    const error = await errorOf(toImageContent(`${origin}/big`, { maxInputBytes: 1000 }));
    expect(error.problem).toBe("too-large");
  });

  it("times out a slow download", async () => {
    const error = await errorOf(toImageContent(`${origin}/slow`, { downloadTimeoutMs: 100 }));
    expect(error.problem).toBe("download-failed");
    expect(error.message).toMatch(/timed out/);
  });

  it("reports an HTTP error", async () => {
    const error = await errorOf(toImageContent(`${origin}/missing.png`));
    expect(error.problem).toBe("download-failed");
    expect(error.message).toMatch(/HTTP 404/);
  });
});
