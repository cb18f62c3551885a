import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, open, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { crc32, deflateSync } from "node:zlib";
import { PDFDocument } from "pdf-lib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readPromptLibrary } from "../../src/cli/commands/prompt-library.js";
import { ContextRegistry, createContextGuard } from "../../src/context-guard/index.js";
import { ChatLMStudio, LMStudioEmbeddings } from "../../src/index.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import {
  LMStudioImageInputError,
  pdfToImages,
  prepareImage,
  readImageBytes,
} from "../../src/vision/index.js";
import { startRawServer } from "./raw-server.js";
import { settleWithin } from "./support.js";

/**
 * Hostile input: model keys built to escape a folder, prompt-file paths that are not plain files,
 * images and PDFs sized to exhaust memory, and the API token looked for everywhere it could leak.
 */

const TOKEN = "sk-lm-Tok3nAbc:Secr3tPasskey0123456";
const HOSTILE_KEYS = [
  "../../escape",
  "..\\..\\windows-escape",
  "/absolute/model",
  "模型/qwen🙂",
  "nul\u0000inside",
  `long-${"x".repeat(4_000)}`,
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reliability-hostile-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => !entry.isDirectory()).map((entry) => join(entry.parentPath, entry.name));
}

describe("model keys", () => {
  it("with ../, backslashes, absolute paths, NUL, unicode and 4,000 characters never leave the registry folder", async () => {
    const root = join(dir, "keys");
    const registryDir = join(root, "registry-folder");
    const sim = await startSimulator({
      port: 0,
      loadTimeScale: 0,
      models: HOSTILE_KEYS.map((key) => ({ key, type: "llm" as const, maxContextLength: 8192 })),
    });
    const guard = createContextGuard({
      baseUrl: sim.baseUrl,
      registryPath: join(registryDir, "registry.json"),
    });
    try {
      for (const key of HOSTILE_KEYS) {
        const result = await guard.test(key, { seed: 4, maxLoads: 2 });
        expect(result.modelKey).toBe(key);
      }
    } finally {
      await guard.close();
      await sim.close();
    }
    const files = await listFiles(root);
    expect(files.length).toBeGreaterThan(1);
    for (const file of files) {
      expect(file.startsWith(`${registryDir}${sep}`), file).toBe(true);
      expect(relative(registryDir, file).split(sep)[0]).toMatch(/^registry\.json(\.backups|\.lock)?$/);
    }
    const keys = (await new ContextRegistry(join(registryDir, "registry.json")).entries()).map(
      (e) => e.modelKey,
    );
    expect(keys.sort()).toEqual([...HOSTILE_KEYS].sort());
  }, 60_000);
});

describe("prompt-file paths for infer", () => {
  it("are resolved: a relative path with ../ reads the file it names", async () => {
    const file = join(dir, "prompts.toml");
    await writeFile(file, 'summary = "Summarise {{text}}"\n');
    const viaDotDot = relative(process.cwd(), file);
    expect(viaDotDot.startsWith("..")).toBe(true);
    expect(await readPromptLibrary(viaDotDot)).toEqual({ summary: "Summarise {{text}}" });
  });

  it("are checked: directories, devices, FIFOs, symlinks to devices, NUL and missing files are refused without reading", async () => {
    const fifo = join(dir, "prompts.fifo");
    const fifoMade = spawnSync("mkfifo", [fifo]).status === 0;
    const deviceLink = join(dir, "zero-link.toml");
    await symlink("/dev/zero", deviceLink);
    const cases = [
      dir,
      "/dev/zero",
      deviceLink,
      "prompts\u0000.toml",
      join(dir, "missing.toml"),
      ...(fifoMade ? [fifo] : []),
    ];
    for (const path of cases) {
      // Reading /dev/zero or a FIFO would never finish: settling at all shows nothing was read.
      const settled = await settleWithin(() => readPromptLibrary(path), 5_000);
      expect(settled.kind, path).toBe("error");
      const message = (settled as { error: Error }).error.message;
      expect(message).toMatch(/^prompt file not found: /);
      if (!path.includes("\u0000")) expect(message).toContain(resolve(path));
    }
  });
});

/** A valid PNG header (IHDR) claiming `width × height` with almost no data: a decompression bomb's shape. */
function pngClaiming(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.alloc(64))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

async function pdfWithPage(widthPt: number, heightPt: number): Promise<Uint8Array> {
  const document = await PDFDocument.create();
  document.addPage([widthPt, heightPt]).drawText("page", { x: 20, y: 20, size: 12 });
  return document.save();
}

async function refusal(work: () => Promise<unknown>): Promise<LMStudioImageInputError> {
  const settled = await settleWithin(work, 20_000);
  expect(settled.kind).toBe("error");
  const error = (settled as { error: unknown }).error;
  expect(error).toBeInstanceOf(LMStudioImageInputError);
  expect((error as LMStudioImageInputError).problem).toBe("too-large");
  return error as LMStudioImageInputError;
}

describe("oversized images and PDFs", () => {
  it("bytes over the limit are refused from memory, a data URL and a file (an 8 GiB sparse file is never read)", async () => {
    const limit = 1024 * 1024;
    expect(
      (await refusal(() => readImageBytes(new Uint8Array(limit + 1), { maxInputBytes: limit }))).message,
    ).toMatch(/over the 1048576-byte limit \(maxInputBytes\)/);
    const dataUrl = `data:image/png;base64,${"A".repeat(2 * limit)}`;
    expect((await refusal(() => readImageBytes(dataUrl, { maxInputBytes: limit }))).message).toMatch(
      /maxInputBytes/,
    );
    const sparse = join(dir, "huge.png");
    const handle = await open(sparse, "w");
    await handle.truncate(8 * 1024 ** 3);
    await handle.close();
    expect((await refusal(() => prepareImage(sparse))).message).toMatch(
      /8589934592 bytes, over the 52428800-byte limit/,
    );
    expect((await refusal(() => pdfToImages(sparse))).message).toMatch(/maxInputBytes/);
  });

  it("a download that never ends is cut at the limit and its connection released", async () => {
    const server = await startRawServer((_req, res) => {
      res.writeHead(200, { "content-type": "image/png" });
      const chunk = Buffer.alloc(64 * 1024, 1);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once("drain", pump);
      };
      pump();
    });
    try {
      const error = await refusal(() =>
        readImageBytes(`${server.baseUrl.replace(/\/v1$/, "")}/endless.png`, {
          maxInputBytes: 2 * 1024 * 1024,
        }),
      );
      expect(error.message).toMatch(/more than 2097152/);
    } finally {
      await server.close();
    }
  });

  it("an image whose header claims 60000×60000 pixels is refused before decoding", async () => {
    const bomb = pngClaiming(60_000, 60_000);
    expect(bomb.length).toBeLessThan(200);
    const error = await refusal(() => prepareImage(bomb));
    expect(error.message).toMatch(
      /60000×60000 \(3600000000 pixels\), over the 100000000-pixel limit \(maxInputPixels\)/,
    );
  });

  it("a PDF page that would render to a huge canvas is refused before rendering; a normal page still renders", async () => {
    const huge = await pdfWithPage(14_400, 14_400);
    expect((await refusal(() => pdfToImages(huge))).message).toMatch(
      /Page 1 would render at 28800×28800 \(829440000 pixels\) at scale 2, over the 40000000-pixel limit \(maxPagePixels\)/,
    );
    const large = await pdfWithPage(5_000, 5_000);
    await refusal(() => pdfToImages(large));
    const [page] = await pdfToImages(await pdfWithPage(595, 842));
    expect(page?.png.subarray(1, 4).toString("latin1")).toBe("PNG");
  }, 30_000);
});

describe("the API token", () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, loadTimeScale: 0, apiToken: TOKEN, jitContextLength: 64 });
  });
  afterAll(() => sim.close());

  const leaks = (value: unknown) =>
    [typeof value === "string" ? value : JSON.stringify(value), inspect(value, { depth: 10 })].some((text) =>
      text?.includes(TOKEN),
    );

  it("is not in serialised or inspected models", () => {
    const chat = new ChatLMStudio({ baseUrl: sim.baseUrl, model: "qwen2.5-7b-instruct", apiKey: TOKEN });
    expect(JSON.stringify(chat)).not.toContain(TOKEN);
    expect(JSON.stringify(chat.toJSON())).not.toContain(TOKEN);
    expect(inspect(chat, { depth: 10 })).not.toContain(TOKEN);
    expect(inspect(chat.bindTools([]), { depth: 10 })).not.toContain(TOKEN);
    const embeddings = new LMStudioEmbeddings({ baseUrl: sim.baseUrl, model: "m", apiKey: TOKEN });
    expect(JSON.stringify(embeddings)).not.toContain(TOKEN);
    expect(inspect(embeddings, { depth: 10 })).not.toContain(TOKEN);
  });

  it("is not in errors, logs or the registry", async () => {
    const logged: string[] = [];
    const originals = {
      log: console.log,
      warn: console.warn,
      error: console.error,
      info: console.info,
      debug: console.debug,
      stdout: process.stdout.write.bind(process.stdout),
      stderr: process.stderr.write.bind(process.stderr),
    };
    const capture = (...args: unknown[]) => {
      logged.push(args.map((arg) => (typeof arg === "string" ? arg : inspect(arg, { depth: 10 }))).join(" "));
    };
    console.log = console.warn = console.error = console.info = console.debug = capture;
    process.stdout.write = ((chunk: string | Uint8Array) => {
      logged.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    process.stderr.write = process.stdout.write;
    const errors: unknown[] = [];
    const registryPath = join(dir, "token", "registry.json");
    await mkdir(join(dir, "token"), { recursive: true });
    try {
      const chat = (fields = {}) =>
        new ChatLMStudio({
          baseUrl: sim.baseUrl,
          model: "qwen2.5-7b-instruct",
          apiKey: TOKEN,
          maxRetries: 0,
          verbose: true,
          ...fields,
        });
      // Successful calls with verbose tracing, then every kind of failure.
      await chat().invoke("Hello");
      for await (const _ of await chat().stream("Hello"));
      errors.push(
        await chat()
          .invoke("word ".repeat(400))
          .catch((e: unknown) => e),
      );
      errors.push(
        await chat({ model: "no-such-model" })
          .invoke("x")
          .catch((e: unknown) => e),
      );
      errors.push(
        await chat({ apiKey: `${TOKEN.slice(0, -1)}X` })
          .invoke("x")
          .catch((e: unknown) => e),
      );
      errors.push(
        await chat({ baseUrl: "http://127.0.0.1:1/v1" })
          .invoke("x")
          .catch((e: unknown) => e),
      );
      // The server is held back so a 1 ms timeout always fires (on loopback an answer can beat it).
      sim.injectFault({ kind: "latency", ms: 300, path: "/v1/chat/completions", times: 1 });
      errors.push(
        await chat({ timeout: 1 })
          .invoke("x")
          .catch((e: unknown) => e),
      );
      const embeddings = new LMStudioEmbeddings({
        baseUrl: sim.baseUrl,
        model: "qwen2.5-7b-instruct",
        apiKey: TOKEN,
      });
      errors.push(await embeddings.embedQuery("x").catch((e: unknown) => e));
      const guard = createContextGuard({ baseUrl: sim.baseUrl, apiKey: TOKEN, registryPath });
      await guard.test("qwen2.5-7b-instruct", { seed: 2, maxLoads: 2 });
      errors.push(await guard.test("missing-model").catch((e: unknown) => e));
      await guard.close();
    } finally {
      Object.assign(console, {
        log: originals.log,
        warn: originals.warn,
        error: originals.error,
        info: originals.info,
        debug: originals.debug,
      });
      process.stdout.write = originals.stdout;
      process.stderr.write = originals.stderr;
    }
    expect(errors.filter((error) => error instanceof Error)).toHaveLength(errors.length);
    for (const error of errors) expect(leaks(error), String(error)).toBe(false);
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.filter((line) => line.includes(TOKEN))).toEqual([]);
    for (const file of await listFiles(join(dir, "token")))
      expect(await readFile(file, "utf8")).not.toContain(TOKEN);
  }, 60_000);
});

describe("shell commands", () => {
  it("are never built: no library source imports child_process or a shell helper", async () => {
    const srcRoot = fileURLToPath(new URL("../../src/", import.meta.url));
    const sources = (await listFiles(srcRoot)).filter((file) => file.endsWith(".ts"));
    expect(sources.length).toBeGreaterThan(50);
    const offenders: string[] = [];
    for (const file of sources) {
      const text = await readFile(file, "utf8");
      if (
        /["'](node:)?child_process["']|["'](execa|shelljs|cross-spawn|zx)["']|\bprocess\.binding\(/.test(text)
      )
        offenders.push(relative(srcRoot, file));
    }
    expect(offenders).toEqual([]);
  });
});
