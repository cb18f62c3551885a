import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DotEnvFileError, lmStudioSettings, loadDotEnv } from "../../src/config/index.js";

/** loadDotEnv, as exported from langchain-lmstudio/config for apps (and used by the CLI and examples). */

const TOUCHED = ["LMSTUDIO_MODEL", "LMSTUDIO_BASE_URL", "LMSTUDIO_MAX_TOKENS"] as const;
const saved = Object.fromEntries(TOUCHED.map((name) => [name, process.env[name]]));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "dotenv-"));
});
afterEach(() => {
  for (const name of TOUCHED) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("loadDotEnv", () => {
  it("reads .env into process.env; a variable already set in the environment wins", async () => {
    const app = join(dir, "app");
    await mkdir(app);
    await writeFile(
      join(app, ".env"),
      '# comment\nLMSTUDIO_MODEL=from-dotenv\nLMSTUDIO_BASE_URL="http://dotenv.invalid:1234/v1"\nLMSTUDIO_MAX_TOKENS=77\n',
    );
    delete process.env.LMSTUDIO_MODEL;
    delete process.env.LMSTUDIO_MAX_TOKENS;
    process.env.LMSTUDIO_BASE_URL = "http://explicit.invalid:4321/v1";

    expect(loadDotEnv(app)).toBe(join(app, ".env"));
    const settings = lmStudioSettings();
    expect(settings.model).toBe("from-dotenv");
    expect(settings.maxTokens).toBe(77);
    expect(settings.baseUrl).toBe("http://explicit.invalid:4321/v1");
  });

  it("no .env is not an error and changes nothing", async () => {
    const empty = join(dir, "empty");
    await mkdir(empty);
    delete process.env.LMSTUDIO_MODEL;
    expect(loadDotEnv(empty)).toBeUndefined();
    expect(process.env.LMSTUDIO_MODEL).toBeUndefined();
  });

  it("a .env that is not a regular file is a DotEnvFileError naming its path", async () => {
    const odd = join(dir, "odd");
    await mkdir(join(odd, ".env"), { recursive: true });
    let caught: unknown;
    try {
      loadDotEnv(odd);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DotEnvFileError);
    expect(caught).toMatchObject({
      path: join(odd, ".env"),
      message: expect.stringContaining("not a regular file"),
    });
  });
});
