/**
 * Consumer checks: the package as a user installs, imports and types it.
 *
 *   npx tsx scripts/consumer-check.ts [--report .consumer-report.json] [--keep]
 *
 * Needs a build (`npm run build`). Packs the tarball, installs it into a fresh app in a temp folder
 * with nothing but the README's install line, then runs, each as one named check:
 * an ESM script, a CJS script, `tsc --strict --module nodenext` on TypeScript files (ESM and CJS),
 * the context guard with the lowest and the highest `@lmstudio/sdk` the package accepts, and every
 * code block of README.md (extracted from the README itself) against the package's own simulator.
 * Writes the counts in vitest's JSON report shape (for scripts/report-counts.mjs) and exits 1 when
 * any check failed.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs, promisify } from "node:util";
import { makeWebp } from "../tests/fixtures/images.js";
import { makeTextAndScanPdf } from "../tests/fixtures/pdf.js";

const run = promisify(execFile);
const REPO = fileURLToPath(new URL("../", import.meta.url));
const APP_FILES = join(REPO, "scripts", "consumer");
const SDK = "@lmstudio/sdk";

const { values: args } = parseArgs({
  options: { report: { type: "string" }, keep: { type: "boolean", default: false } },
});

interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}
const results: CheckResult[] = [];

/** Runs one named check; a failure is recorded with its output and the next check still runs. */
async function check(name: string, body: () => Promise<string | undefined>): Promise<boolean> {
  const started = performance.now();
  try {
    const detail = (await body()) ?? "";
    results.push({ name, ok: true, detail });
    console.log(
      `  ✓ ${name} (${((performance.now() - started) / 1000).toFixed(1)} s)${detail ? `: ${detail}` : ""}`,
    );
    return true;
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    results.push({ name, ok: false, detail });
    console.log(`  ✗ ${name}\n${detail.replace(/^/gm, "      ")}`);
    return false;
  }
}

/** Runs a command; a non-zero exit throws with the command's output. */
async function sh(
  command: string,
  commandArgs: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, commandArgs, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      timeout: options.timeoutMs ?? 300_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return `${stdout}${stderr}`;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; code?: unknown };
    const output = `${failed.stdout ?? ""}${failed.stderr ?? ""}`.trim().split("\n").slice(-40).join("\n");
    throw new Error(`${command} ${commandArgs.join(" ")} exited with ${String(failed.code)}\n${output}`);
  }
}

const npm = (cwd: string, npmArgs: string[]) => sh("npm", [...npmArgs, "--no-audit", "--no-fund"], { cwd });
const node = (cwd: string, nodeArgs: string[], env?: NodeJS.ProcessEnv) =>
  sh(process.execPath, nodeArgs, { cwd, env, timeoutMs: 180_000 });

interface ReadmeBlock {
  lang: string;
  line: number;
  code: string;
}

/** Fenced code blocks of the user-facing part of README.md (everything before "Working on this repository"). */
function readmeBlocks(readme: string): ReadmeBlock[] {
  const userPart = readme.split(/^## Working on this repository/m)[0] ?? readme;
  const blocks: ReadmeBlock[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```/gm;
  for (let match = fence.exec(userPart); match; match = fence.exec(userPart)) {
    const line = userPart.slice(0, match.index).split("\n").length;
    blocks.push({ lang: match[1] ?? "", line, code: match[2] ?? "" });
  }
  return blocks;
}

/** `npm install …` lines of a bash block, without trailing comments. */
function npmInstallLines(block: ReadmeBlock): string[][] {
  return block.code
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line.startsWith("npm install "))
    .map((line) => line.split(/\s+/).slice(2));
}

function installedVersion(app: string, name: string): Promise<string | undefined> {
  return readFile(join(app, "node_modules", name, "package.json"), "utf8").then(
    (text) => (JSON.parse(text) as { version: string }).version,
    () => undefined,
  );
}

/** The lowest and highest published versions inside the package's own `@lmstudio/sdk` range. */
async function sdkRangeEnds(range: string): Promise<[string, string]> {
  const out = await npm(REPO, ["view", `${SDK}@${range}`, "version", "--json"]);
  const parsed = JSON.parse(out) as string | string[];
  const versions = (Array.isArray(parsed) ? parsed : [parsed]).filter((v) => !v.includes("-"));
  const byNumber = (a: string, b: string) => {
    const [x, y] = [a.split(".").map(Number), b.split(".").map(Number)];
    return (x[0]! - y[0]!) * 1e6 + (x[1]! - y[1]!) * 1e3 + (x[2]! - y[2]!);
  };
  versions.sort(byNumber);
  return [versions[0]!, versions.at(-1)!];
}

/**
 * Installs one SDK version into the app. SDK 2.x needs @lmstudio/lms-isomorphic 0.5, which registries
 * like this project's CI mirror lack: only then, and only for this check, the app pins the newest
 * lms-isomorphic the registry has (npmjs.org needs no such pin; users of such mirrors get 1.x instead).
 */
async function installSdk(app: string, version: string): Promise<string> {
  try {
    await npm(app, ["install", `${SDK}@${version}`]);
    return "";
  } catch (error) {
    if (!String(error).includes("@lmstudio/lms-isomorphic")) throw error;
    const available = JSON.parse(
      await npm(app, ["view", "@lmstudio/lms-isomorphic", "version", "--json"]),
    ) as string;
    const manifestPath = join(app, "package.json");
    const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as Record<string, unknown>;
    manifest.overrides = { "@lmstudio/lms-isomorphic": available };
    await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    await npm(app, ["install", `${SDK}@${version}`]);
    return ` (this registry lacks @lmstudio/lms-isomorphic@^0.5: pinned ${available} for this check)`;
  }
}

const readme = await readFile(join(REPO, "README.md"), "utf8");
const blocks = readmeBlocks(readme);
const manifest = JSON.parse(await readFile(join(REPO, "package.json"), "utf8")) as {
  version: string;
  optionalDependencies: Record<string, string>;
};
const work = await mkdtemp(join(tmpdir(), "langchain-lmstudio-consumer-"));
const app = join(work, "app");
await mkdir(app);
await writeFile(
  join(app, "package.json"),
  `${JSON.stringify({ name: "consumer-app", version: "1.0.0", private: true }, null, 2)}\n`,
);
console.log(`consumer checks in ${app}`);

let tarball = "";
await check("npm pack: the tarball has every entry's files and .env.example", async () => {
  const packed = JSON.parse(
    await npm(REPO, ["pack", "--json", "--ignore-scripts", "--pack-destination", work]),
  ) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  const [info] = packed;
  if (!info) throw new Error("npm pack reported nothing");
  tarball = join(work, info.filename);
  const files = new Set(info.files.map((file) => file.path));
  const expected = [".env.example", "README.md", "LICENSE", "dist/cli/main.js"];
  for (const entry of ["", "vision/", "context-guard/", "config/", "testing/"]) {
    for (const ext of ["js", "cjs", "d.ts", "d.cts"]) expected.push(`dist/${entry}index.${ext}`);
  }
  const missing = expected.filter((path) => !files.has(path));
  if (missing.length > 0) throw new Error(`missing from the tarball: ${missing.join(", ")}`);
  return `${info.filename}, ${files.size} files`;
});

const [installBlock] = blocks.filter((block) => block.lang === "bash" && npmInstallLines(block).length > 0);
const installed = await check("install with the README's install line, nothing else", async () => {
  const [line] = installBlock ? npmInstallLines(installBlock) : [];
  if (!line?.includes("langchain-lmstudio"))
    throw new Error("README.md has no `npm install langchain-lmstudio …` line");
  // The tarball stands in for the registry's copy of this version.
  await npm(app, ["install", ...line.map((name) => (name === "langchain-lmstudio" ? tarball : name))]);
  const version = await installedVersion(app, "langchain-lmstudio");
  if (version !== manifest.version)
    throw new Error(`installed langchain-lmstudio ${version}, packed ${manifest.version}`);
  const sdk = await installedVersion(app, SDK);
  return `npm install ${line.join(" ")}; ${SDK} ${sdk ?? "left out by npm (optional dependency)"}`;
});

if (installed) {
  for (const file of ["esm.mjs", "cjs.cjs", "types.mts", "types.cts", "guard.mjs"]) {
    await copyFile(join(APP_FILES, file), join(app, file));
  }
  await check(
    "ESM script (import of every entry, chat, structured output, factories, embeddings)",
    async () => (await node(app, ["esm.mjs"])).trim(),
  );
  await check("CJS script (require of every entry, shared error classes)", async () =>
    (await node(app, ["cjs.cjs"])).trim(),
  );
  await check("tsc --strict --module nodenext on types.mts and types.cts", async () => {
    const tsconfig = {
      compilerOptions: {
        strict: true,
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2022",
        lib: ["es2023"],
        noEmit: true,
        // The app installs no TypeScript toolchain of its own: compiler and Node types come from here.
        types: ["node"],
        typeRoots: [join(REPO, "node_modules", "@types")],
      },
      files: ["types.mts", "types.cts"],
    };
    await writeFile(join(app, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
    await node(app, [join(REPO, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"]);
    return undefined;
  });

  const range = manifest.optionalDependencies[SDK];
  if (!range) throw new Error(`package.json lists no ${SDK} range`);
  const [lowest, highest] = await sdkRangeEnds(range);
  for (const [label, version] of [
    ["lowest", lowest],
    ["highest", highest],
  ] as const) {
    await check(
      `context guard and embedding token counts on the ${label} accepted ${SDK} (${version} of ${range})`,
      async () => {
        const note = await installSdk(app, version);
        return `${(await node(app, ["guard.mjs", version])).trim()}${note}`;
      },
    );
  }

  // README blocks run in this app (now with the highest SDK) against the package's own simulator.
  const testing = (await import(
    pathToFileURL(join(app, "node_modules", "langchain-lmstudio", "dist", "testing", "index.js")).href
  )) as typeof import("../src/testing/index.js");
  const sim = await testing.startSimulator({ loadTimeScale: 0 });
  const env = {
    LMSTUDIO_BASE_URL: sim.baseUrl,
    LMSTUDIO_MODEL: "qwen2.5-7b-instruct",
    LMSTUDIO_VISION_MODEL: "qwen2-vl-2b-instruct",
    LMSTUDIO_EMBEDDING_MODEL: "text-embedding-nomic-embed-text-v1.5",
    LMSTUDIO_GUARD_REGISTRY: join(work, "registry.json"),
    HOME: join(work, "home"),
    npm_config_cache: process.env.npm_config_cache ?? join(homedir(), ".npm"),
  };
  // The files the README's examples name: the prompt library, and an LM Studio home for `save`
  // (HOME points at a scratch folder for the README's commands; npm keeps its real cache).
  await mkdir(join(app, "examples"), { recursive: true });
  await writeFile(
    join(app, "examples", "prompts.toml"),
    await readFile(join(REPO, "examples", "prompts.toml")),
  );
  await mkdir(join(work, "home", ".lmstudio"), { recursive: true });
  await writeFile(join(app, "photo.webp"), await makeWebp(320, 240));
  await writeFile(join(app, "invoice.pdf"), await makeTextAndScanPdf());
  try {
    for (const block of blocks) {
      const where = `README.md:${block.line}`;
      if (block.lang === "bash") {
        // A trailing backslash continues a command on the next line, as in a shell.
        const commands = block.code.replace(/\\\n\s*/g, " ").split("\n");
        for (const line of commands.map((text) => text.replace(/\s+#.*$/, "").trim())) {
          if (line === "") continue;
          const words = line.split(/\s+/);
          if (line.startsWith("npm install ")) {
            if (block === installBlock) continue; // already the install check
            await check(`${where} \`${line}\``, async () => {
              await npm(app, words.slice(1));
              return undefined;
            });
          } else if (words[0] === "npx" && words[1] === "langchain-lmstudio") {
            await check(`${where} \`${line}\``, async () => {
              // Through a shell, so the README's quoting and $(…) mean what they mean to a reader.
              const command = line.replace(/^npx /, "npx --no ");
              const out = await sh("bash", ["-c", command], { cwd: app, env, timeoutMs: 300_000 });
              return out.trim().split("\n").slice(-1)[0];
            });
          } else {
            console.log(`  - ${where} \`${line}\`: not run (needs LM Studio itself)`);
          }
        }
      } else if (block.lang === "ts" || block.lang === "js") {
        const file = `readme-${block.line}.mts`;
        await writeFile(join(app, file), block.code);
        await check(`${where} ${block.lang} block`, async () => {
          const out = (await node(app, [file], env)).trim();
          return out.split("\n").slice(-1)[0]?.slice(0, 100);
        });
      }
    }
  } finally {
    await sim.close();
  }
}

const failed = results.filter((result) => !result.ok);
console.log(`consumer checks: ${results.length - failed.length} passed, ${failed.length} failed`);
if (args.report) {
  const report = {
    numPassedTests: results.length - failed.length,
    numFailedTests: failed.length,
    numPendingTests: 0,
    numTodoTests: 0,
    checks: results,
  };
  await writeFile(args.report, `${JSON.stringify(report, null, 2)}\n`);
}
if (failed.length === 0 && !args.keep) await rm(work, { recursive: true, force: true });
else console.log(`the consumer app is kept in ${app}`);
process.exitCode = failed.length === 0 ? 0 : 1;
