import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../src/cli/exit-codes.js";
import { runCli, runInProcess } from "./cli-harness.js";

/** Every command against a stopped server, a silent socket, and bad options: message and exit code. */

let dir: string;
let deadUrl: string;
let silent: Server;
let silentUrl: string;
const heldSockets: Socket[] = [];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cli-errors-"));
  deadUrl = `http://127.0.0.1:${await freePort()}/v1`;
  // Answers HTTP like LM Studio, but the SDK's WebSocket upgrade is accepted and never answered.
  silent = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"object":"list","data":[]}');
  });
  silent.on("upgrade", (_req, socket: Socket) => {
    heldSockets.push(socket);
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  for (const socket of heldSockets) socket.destroy();
  silent.closeAllConnections();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({ LMSTUDIO_BASE_URL: deadUrl, LMSTUDIO_GUARD_REGISTRY: join(dir, "registry.json") });

describe("a stopped server", () => {
  const commands: Array<[string, string[]]> = [
    ["status", ["status"]],
    ["status --json", ["status", "--json"]],
    ["scan", ["scan"]],
    ["scan --json", ["scan", "--json"]],
    ["test --all", ["test", "--all"]],
    ["test one model --json", ["test", "some-model", "--json"]],
    ["infer", ["infer", "hello", "-m", "some-model"]],
    ["save", ["save", "--all", "--lmstudio-home", tmpdir()]],
  ];
  it.each(commands)(
    "%s: the one 'Cannot reach LM Studio' message, exit 3, nothing on stdout",
    async (_name, args) => {
      const run = await runCli(args, env());
      expect(run.code).toBe(EXIT.unreachable);
      expect(run.stdout).toBe("");
      expect(run.stderr.trim()).toBe(
        `error: Cannot reach LM Studio at ${deadUrl} (ECONNREFUSED). Start its server with \`lms server start\` ` +
          "(or LM Studio › Developer › Start Server), or point LMSTUDIO_BASE_URL at the right host and port.",
      );
    },
    60_000,
  );

  it("doctor prints every check, then the same message, exit 3", async () => {
    const run = await runCli(["doctor", "--json"], env());
    expect(run.code).toBe(EXIT.unreachable);
    const checks = run.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { check: string; ok: boolean });
    expect(checks.map((c) => [c.check, c.ok])).toEqual([
      ["http", false],
      ["rest-api", false],
      ["sdk", false],
      ["registry", true],
    ]);
    expect(run.stderr).toMatch(/^error: Cannot reach LM Studio at .* \(ECONNREFUSED\)\. .*lms server start/);
  }, 60_000);

  it("a server that is not LM Studio (answers 404, refuses the SDK socket) is named as such, exit 3", async () => {
    const notLMStudio = createServer((_req, res) => {
      res.writeHead(404).end("not found");
    });
    await new Promise<void>((resolve) => notLMStudio.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(notLMStudio.address() as AddressInfo).port}/v1`;
    try {
      for (const args of [["scan"], ["status"], ["test", "--all"]]) {
        const run = await runCli(args, { ...env(), LMSTUDIO_BASE_URL: url });
        expect(run.code, args.join(" ")).toBe(EXIT.unreachable);
        expect(run.stderr).toMatch(
          new RegExp(
            `^error: This command needs LM Studio's SDK endpoint, and the server at ${url.replace(/[.]/g, "\\.")} has none: it refused the SDK's WebSocket connection \\(Unexpected server response: 404\\)`,
          ),
        );
        expect(run.stderr).toContain("set LMSTUDIO_BASE_URL (or --base-url) to LM Studio's server.");
      }
    } finally {
      notLMStudio.closeAllConnections();
      await new Promise<void>((resolve) => notLMStudio.close(() => resolve()));
    }
  }, 60_000);

  it("a port fetch refuses is named as such", async () => {
    const run = await runCli(["status"], { ...env(), LMSTUDIO_BASE_URL: "http://127.0.0.1:6666/v1" });
    expect(run.code).toBe(EXIT.unreachable);
    expect(run.stderr).toContain(
      "Cannot reach LM Studio at http://127.0.0.1:6666/v1 (Node's fetch refuses port 6666 as unsafe, so no request was sent; use another port)",
    );
  }, 30_000);

  it("credentials in the base URL are not printed", async () => {
    const withUser = deadUrl.replace("http://", "http://alice:s3cret@");
    for (const args of [["status"], ["doctor"], ["doctor", "--json"]]) {
      const run = await runCli(args, { ...env(), LMSTUDIO_BASE_URL: withUser });
      expect(run.code).toBe(EXIT.unreachable);
      expect(run.stdout + run.stderr).not.toContain("s3cret");
      expect(run.stderr).toContain(`Cannot reach LM Studio at ${deadUrl} (ECONNREFUSED)`);
    }
  }, 60_000);
});

describe("a server that answers HTTP but whose SDK socket stays silent", () => {
  it.each([["status"], ["scan"], ["infer", "hi", "-m", "m"]])(
    "%s ends at --timeout with exit 3 and says what happened",
    async (...args) => {
      const run = await runCli([...args, "--timeout", "2"], {
        ...env(),
        LMSTUDIO_BASE_URL: silentUrl,
      });
      expect(run.code).toBe(EXIT.unreachable);
      expect(run.stderr).toContain(`LM Studio at ${silentUrl} answers HTTP but did not finish within 2 s`);
    },
    60_000,
  );

  it("test ends at --list-timeout with exit 3", async () => {
    const run = await runCli(["test", "--all", "--list-timeout", "2"], {
      ...env(),
      LMSTUDIO_BASE_URL: silentUrl,
    });
    expect(run.code).toBe(EXIT.unreachable);
    expect(run.stderr).toContain(
      `LM Studio at ${silentUrl} answers HTTP but did not list its models within 2 s`,
    );
  }, 60_000);

  it("doctor reports the silent SDK check, then exits 3", async () => {
    const run = await runCli(["doctor", "--json", "--timeout", "2"], {
      ...env(),
      LMSTUDIO_BASE_URL: silentUrl,
    });
    expect(run.code).toBe(EXIT.unreachable);
    const sdk = run.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { check: string; ok: boolean; detail: string })
      .find((c) => c.check === "sdk");
    expect(sdk?.ok).toBe(false);
    expect(sdk?.detail).toContain("did not finish within 2 s");
    expect(run.stderr).toContain("answers HTTP but did not finish within 2 s");
  }, 60_000);
});

describe("options are validated before anything runs", () => {
  const cases: Array<[string[], RegExp]> = [
    [
      ["infer", "hi", "-m", "m", "--max-tokens", "abc"],
      /option '--max-tokens <n>' argument 'abc' is invalid\. must be a whole number ≥ 1/,
    ],
    [
      ["infer", "hi", "-m", "m", "--max-tokens", "-5"],
      /argument '-5' is invalid\. must be a whole number ≥ 1/,
    ],
    [["infer", "hi", "-m", "m", "--max-tokens", "1.5"], /argument '1\.5' is invalid/],
    [
      ["infer", "hi", "-m", "m", "--overflow", "drop"],
      /argument 'drop' is invalid\. Allowed choices are error, trim, truncate-middle/,
    ],
    [["test", "--all", "--max-loads", "0"], /option '--max-loads <n>' argument '0' is invalid/],
    [["test", "--all", "--max-loads", "ten"], /argument 'ten' is invalid/],
    [["status", "--timeout", "0"], /option '--timeout <seconds>' argument '0' is invalid/],
    [
      ["save", "--all", "--limit", "150%"],
      /option '--limit <limit>' argument '150%' is invalid\. must be a percentage/,
    ],
    [["save", "--all", "--limit", "0"], /argument '0' is invalid/],
    [["test"], /error: name models to test, or use --all/],
    [
      ["status", "--base-url", "localhost:1234"],
      /option '--base-url <url>' argument 'localhost:1234' is invalid\. must be an http\(s\) URL/,
    ],
    [["test", "a", "--all"], /error: give model names or --all, not both/],
    [["list", "--sort", "speed"], /error: invalid --sort "speed"/],
    [["simulate", "--port", "70000"], /--port must be an integer between 0 and 65535/],
    [["simulate", "--port", "1e3"], /--port must be an integer between 0 and 65535 \(got "1e3"\)/],
    [["frobnicate"], /error: unknown command 'frobnicate'/],
  ];
  it.each(cases)(
    "%j → exit 2",
    async (args, message) => {
      const run = await runInProcess(args);
      expect(run.code).toBe(EXIT.usage);
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe("");
    },
    30_000,
  );

  it("report -o x.pdf is refused and writes nothing; .svg and .html choose the format", async () => {
    const pdf = join(dir, "x.pdf");
    const refused = await runInProcess(["report", "-o", pdf]);
    expect(refused.code).toBe(EXIT.usage);
    expect(refused.stderr).toMatch(/cannot write a report as "\.pdf": use a file ending in \.html or \.svg/);
    expect(existsSync(pdf)).toBe(false);
  }, 30_000);

  it("--help lists the exit codes and the .env rule", async () => {
    const run = await runInProcess(["--help"]);
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toContain("3    cannot reach LM Studio");
    expect(run.stdout).toContain("A .env file in the current directory is read first");
    for (const command of ["scan", "list", "test", "status", "doctor", "infer", "save", "report", "simulate"])
      expect(run.stdout).toMatch(new RegExp(`\\n  ${command}\\b`));
  }, 30_000);
});
