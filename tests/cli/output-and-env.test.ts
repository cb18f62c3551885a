import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatBytes } from "../../src/cli/commands/guard-cli.js";
import { EXIT } from "../../src/cli/exit-codes.js";
import { escapeControl, escapeControlLine, terminalJson } from "../../src/cli/terminal-text.js";
import { type RunningSimulator, startSimulator } from "../../src/testing/index.js";
import { jsonLines, runCli } from "./cli-harness.js";

/** Control characters from the server never reach the terminal raw; .env is read, the environment wins. */

// ESC ] 0 ; … BEL retitles the window; CR + "OK" would overwrite the line; U+009B is a one-byte CSI.
const EVIL = "evil\u001b]0;pwned\u0007\rOK\u009b2J";
let sim: RunningSimulator;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cli-output-"));
  sim = await startSimulator({
    port: 0,
    loadTimeScale: 0,
    models: [
      { key: EVIL, type: "llm", maxContextLength: 4096 },
      { key: "chat-small", type: "llm", maxContextLength: 8192 },
    ],
    preload: [{ key: EVIL }],
  });
});
afterAll(async () => {
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({ LMSTUDIO_BASE_URL: sim.baseUrl, LMSTUDIO_GUARD_REGISTRY: join(dir, "registry.json") });
// biome-ignore lint/suspicious/noControlCharactersInRegex: what must never be printed
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe("terminal text", () => {
  it("escapes controls visibly; lines also lose their line breaks", () => {
    expect(escapeControl("a\u001b[2Jb\nc\td")).toBe("a\\x1b[2Jb\nc\td");
    expect(escapeControlLine("a\rb\nc")).toBe("a\\x0db\\x0ac");
    expect(terminalJson({ k: "\u009b\u001b" })).toBe('{"k":"\\u009b\\u001b"}');
    expect(JSON.parse(terminalJson({ k: EVIL })).k).toBe(EVIL);
  });

  it.each([["scan"], ["scan", "--json"], ["list"], ["status"], ["status", "--json"], ["test", EVIL]])(
    "%s prints a hostile model key escaped",
    async (...args) => {
      const run = await runCli(args, env());
      // `test` may find the hostile model untestable (exit 4); what it prints is the point here.
      expect([EXIT.ok, EXIT.someUntested], run.stderr).toContain(run.code);
      expect(run.stdout + run.stderr).not.toMatch(RAW_CONTROL);
      expect(run.stdout).toMatch(/evil(\\x1b|\\u001b)\]0;pwned/);
    },
    60_000,
  );
});

describe("model sizes", () => {
  it("are decimal, as LM Studio shows them (not GiB labelled GB), in MB below 1 GB", () => {
    expect(formatBytes(4_683_073_952)).toBe("4.7 GB");
    expect(formatBytes(84_106_624)).toBe("84 MB");
    expect(formatBytes(undefined)).toBe("-");
  });
});

describe("report with a hostile model key in the registry", () => {
  it("writes an SVG without characters XML forbids", async () => {
    const out = join(dir, "report.svg");
    const run = await runCli(["scan"], env()).then(() => runCli(["report", "-o", out], env()));
    expect(run.code, run.stderr).toBe(0);
    const svg = await readFile(out, "utf8");
    expect(svg).toContain("evil\ufffd]0;pwned\ufffd");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: what XML 1.0 cannot contain
    expect(svg).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
  }, 60_000);
});

describe(".env", () => {
  it("is read from the working directory; an explicit variable wins over it", async () => {
    const project = join(dir, "project");
    await mkdir(project, { recursive: true });
    await writeFile(
      join(project, ".env"),
      `LMSTUDIO_BASE_URL=${sim.baseUrl}\nLMSTUDIO_GUARD_REGISTRY=${join(dir, "env-registry.json")}\n`,
    );
    const fromFile = await runCli(["scan", "--json"], {}, { cwd: project });
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(jsonLines(fromFile.stdout).map((l) => l.model)).toContain("chat-small");
    const explicit = await runCli(["scan"], { LMSTUDIO_BASE_URL: "http://127.0.0.1:9/v1" }, { cwd: project });
    expect(explicit.code).toBe(EXIT.unreachable);
    expect(explicit.stderr).toContain("Cannot reach LM Studio at http://127.0.0.1:9/v1");
  }, 60_000);

  it("a bad value in .env is named, exit 2", async () => {
    const project = join(dir, "bad-env");
    await mkdir(project, { recursive: true });
    await writeFile(join(project, ".env"), "LMSTUDIO_BASE_URL=localhost:1234\n");
    const run = await runCli(["status"], {}, { cwd: project });
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(/Invalid environment: .*\n\s+- LMSTUDIO_BASE_URL: must be an http\(s\) URL/);
  }, 30_000);
});

describe("infer", () => {
  it("--help documents the TOML format; unused --var values are warned about", async () => {
    const help = await runCli(["infer", "--help"], env());
    expect(help.stdout).toContain(
      'Prompt files (--prompt-file) are TOML. A prompt is a string, or a table with a\n"template" (or "prompt") string',
    );
    expect(help.stdout).toContain("See examples/prompts.toml.");
    expect(help.stdout).toContain("Exit codes:\n  0    success");
    const file = join(dir, "prompts.toml");
    await writeFile(file, '[greet]\nprompt = "Please repeat: hello {{name}}"\n');
    const run = await runCli(
      [
        "infer",
        "greet",
        "-m",
        "chat-small",
        "--prompt-file",
        file,
        "--var",
        "name=Ada",
        "--var",
        "nmae=x",
        "--untested",
        "declared",
        "--json",
      ],
      env(),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(String(jsonLines(run.stdout)[0]?.content)).toContain("hello Ada");
    expect(run.stderr).toContain("warning: --var nmae not used: the prompt has no such {{placeholder}}");
  }, 60_000);

  it("an untested model fails by default, naming the command that tests it", async () => {
    const run = await runCli(["infer", "Say hi", "-m", "chat-small"], env());
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("npx langchain-lmstudio test chat-small");
    expect(run.stdout).toBe("");
  }, 60_000);

  it("the example prompt file works as the README shows", async () => {
    const example = join(import.meta.dirname, "..", "..", "examples", "prompts.toml");
    const run = await runCli(
      [
        "infer",
        "review",
        "-m",
        "chat-small",
        "--prompt-file",
        example,
        "--var",
        "language=TypeScript",
        "--var",
        "code=let x = 1;",
        "--untested",
        "declared",
        "--json",
      ],
      env(),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain("--var");
    expect(run.stderr).not.toContain("error");
    // The declared maximum is used, and the user is told it is untested.
    expect(run.stderr).toContain('"chat-small" has no tested context');
  }, 60_000);
});
