import sharp from "sharp";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LMStudioModelNotFoundError, LMStudioVisionNotSupportedError } from "../../src/index.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { LMStudioVision } from "../../src/vision/index.js";
import { makeLargeJpeg, makePng, makeWebp } from "../fixtures/images.js";
import { makeTextAndScanPdf, TEXT_PAGE_SENTENCE } from "../fixtures/pdf.js";

/** LMStudioVision against the simulator: what reaches the server, and what is refused before it. */

const VLM = "qwen2-vl-2b-instruct";
const TEXT_ONLY = "qwen2.5-7b-instruct";

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, loadTimeScale: 0 });
});
afterAll(() => sim.close());
afterEach(() => {
  sim.requests.length = 0;
});

const vision = (model = VLM) => new LMStudioVision({ model, baseUrl: sim.baseUrl, chat: { maxRetries: 0 } });

interface ChatBody {
  messages: Array<{
    role: string;
    content: string | Array<{ type: string; text?: string; image_url?: { url: string } }>;
  }>;
  response_format?: { type: string };
}

function chatRequests(): ChatBody[] {
  return sim.requests
    .filter((request) => request.method === "POST" && request.path === "/v1/chat/completions")
    .map((request) => request.body as ChatBody);
}

/** The image data URLs in a chat request, each checked to be a base64 PNG or JPEG. */
function imageUrls(body: ChatBody): string[] {
  return body.messages.flatMap((message) =>
    typeof message.content === "string"
      ? []
      : message.content.flatMap((part) =>
          part.type === "image_url" && part.image_url ? [part.image_url.url] : [],
        ),
  );
}

function decode(url: string): { mime: string; bytes: Buffer } {
  const match = /^data:(image\/(?:png|jpeg));base64,([A-Za-z0-9+/=]+)$/.exec(url);
  if (!match) throw new Error(`not an accepted data URL: ${url.slice(0, 40)}`);
  return { mime: match[1]!, bytes: Buffer.from(match[2]!, "base64") };
}

describe("non-vision models are refused before upload", () => {
  it("names the vision-capable models and sends no image", async () => {
    const error = await vision(TEXT_ONLY)
      .describeImage(await makePng())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioVisionNotSupportedError);
    expect((error as LMStudioVisionNotSupportedError).visionModels).toEqual([VLM]);
    expect((error as Error).message).toContain(VLM);
    expect(chatRequests()).toHaveLength(0);
    expect(sim.requests.some((request) => JSON.stringify(request.body ?? "").includes("data:image"))).toBe(
      false,
    );
  });

  it("refuses an unknown model with the vision models as suggestions", async () => {
    const error = await vision("no-such-model")
      .describeImage(await makePng())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioModelNotFoundError);
    expect((error as LMStudioModelNotFoundError).availableModels).toEqual([VLM]);
    expect(chatRequests()).toHaveLength(0);
  });
});

describe("images reach the VLM as accepted data URLs", () => {
  it("a webp photo arrives as a JPEG data URL and the server answers", async () => {
    const answer = await vision().describeImage(await makeWebp(), "What is in this picture?");
    expect(answer).toContain("What is in this picture?");
    const [body] = chatRequests();
    const [url] = imageUrls(body!);
    expect(decode(url!).mime).toBe("image/jpeg");
  });

  it("a 6000×4000 JPEG arrives downscaled to 1568 on its long side", async () => {
    await vision().describeImage(await makeLargeJpeg());
    const [url] = imageUrls(chatRequests()[0]!);
    const { mime, bytes } = decode(url!);
    expect(mime).toBe("image/jpeg");
    const info = await sharp(bytes).metadata();
    expect([info.width, info.height]).toEqual([1568, 1045]);
  });

  it("checks the model's capability once, not before every image", async () => {
    const model = vision();
    await model.describeImage(await makePng());
    await model.describeImage(await makePng());
    const modelListReads = sim.requests.filter((request) => request.path.endsWith("/models")).length;
    expect(modelListReads).toBe(1);
    expect(chatRequests()).toHaveLength(2);
  });
});

describe("describeDocument", () => {
  it("sends the text page as text and the scanned page 2 as a PNG data URL", async () => {
    const pages = await vision().describeDocument(await makeTextAndScanPdf(), { prompt: "Summarise." });
    expect(pages.map(({ page, via }) => [page, via])).toEqual([
      [1, "text"],
      [2, "image"],
    ]);
    const [textRequest, imageRequest] = chatRequests();
    expect(imageUrls(textRequest!)).toEqual([]);
    expect(JSON.stringify(textRequest!.messages)).toContain(TEXT_PAGE_SENTENCE);
    const [url] = imageUrls(imageRequest!);
    expect(decode(url!).mime).toBe("image/png");
    for (const { output } of pages) expect(typeof output).toBe("string");
  });

  it("returns structured output per page when given a schema", async () => {
    const schema = {
      type: "object",
      properties: { kind: { type: "string", enum: ["report", "photo"] }, summary: { type: "string" } },
      required: ["kind", "summary"],
      additionalProperties: false,
    };
    const pages = await vision().describeDocument(await makeTextAndScanPdf(), {
      pages: [2],
      schema,
      textLayer: "ignore",
    });
    expect(pages).toHaveLength(1);
    expect(pages[0]!.via).toBe("image");
    expect(["report", "photo"]).toContain(pages[0]!.output.kind);
    expect(typeof pages[0]!.output.summary).toBe("string");
    expect(chatRequests()[0]!.response_format?.type).toBe("json_schema");
  });

  it("refuses a non-VLM before rendering or sending any page", async () => {
    const error = await vision(TEXT_ONLY)
      .describeDocument(await makeTextAndScanPdf())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LMStudioVisionNotSupportedError);
    expect(chatRequests()).toHaveLength(0);
  });
});
