import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { z } from "zod";
import { type RunningSimulator, type SimulatedModelSpec, startSimulator } from "../../testing/index.js";
import { CliError, UsageError } from "../cli-error.js";
import type { Lifetime } from "../lifetime.js";

const positiveInt = z.number().int().positive();

const modelSpecSchema = z
  .object({
    key: z.string().min(1),
    type: z.enum(["llm", "embedding"]),
    maxContextLength: positiveInt,
    loadLimit: positiveInt.optional(),
    effectiveContext: positiveInt.optional(),
    fillLimit: positiveInt.optional(),
    autoFitTo: positiveInt.optional(),
    vision: z.boolean().optional(),
    trainedForToolUse: z.boolean().optional(),
    reasoning: z.boolean().optional(),
    sizeBytes: positiveInt.optional(),
    format: z.enum(["gguf", "mlx"]).optional(),
    loadTimeMs: z.number().int().nonnegative().optional(),
    embeddingDimensions: positiveInt.optional(),
    displayName: z.string().optional(),
    publisher: z.string().optional(),
    architecture: z.string().optional(),
    quantization: z.string().optional(),
  })
  .strict();

/** models.json: either an array of model specs or `{ "models": [...] }`. */
const modelListSchema = z.array(modelSpecSchema).min(1);
const modelsObjectSchema = z.object({ models: modelListSchema }).strict();

const versionSchema = z.enum(["0.3.x", "0.4.x", "0.4.21", "mlx"]);

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `  - ${issue.path.length > 0 ? issue.path.join(".") : "(root)"}: ${issue.message}`)
    .join("\n");
}

/** Reads and validates a models.json file; errors name the offending field. */
export async function loadModelsFile(path: string): Promise<SimulatedModelSpec[]> {
  let raw: string;
  try {
    raw = await readFile(path, "utf8");
  } catch (error) {
    throw new Error(`Cannot read models file ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new Error(`Models file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  // Parse with the schema matching the file's shape so issues name the exact field (a union would not).
  const parsed = Array.isArray(json)
    ? modelListSchema.safeParse(json)
    : modelsObjectSchema.transform((file) => file.models).safeParse(json);
  if (!parsed.success) throw new Error(`Invalid models file ${path}:\n${describeIssues(parsed.error)}`);
  const specs = parsed.data;
  // exactOptionalPropertyTypes is off, so zod's optional fields match SimulatedModelSpec directly.
  return specs as SimulatedModelSpec[];
}

interface SimulateOptions {
  port: string;
  host: string;
  models?: string;
  lmstudioVersion: string;
  jit: boolean;
  apiToken?: string;
  lmstudioHome?: string;
}

export function registerSimulateCommand(program: Command, lifetime: Lifetime): void {
  program
    .command("simulate")
    .description(
      "run the LM Studio simulator (HTTP /v1, /api/v0, /api/v1 and the SDK WebSocket API on one port)",
    )
    .option("-p, --port <port>", "port to listen on (0 = any free port)", "1234")
    .option("--host <host>", "interface to bind", "127.0.0.1")
    .option("-m, --models <file>", "models.json with the model catalog")
    .option("--lmstudio-version <version>", "error dialect: 0.3.x | 0.4.x | 0.4.21 | mlx", "0.4.x")
    .option("--no-jit", "disable JIT loading on /v1 (requests then need a loaded model)")
    .option("--api-token <token>", "require this bearer token (LM Studio's 'Require Authentication')")
    .option(
      "--lmstudio-home <dir>",
      "honour per-model default load settings saved under this LM Studio home (see `save`)",
    )
    .action(async (opts: SimulateOptions) => {
      const port = /^\d+$/.test(opts.port.trim()) ? Number(opts.port) : Number.NaN;
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new UsageError(`--port must be an integer between 0 and 65535 (got "${opts.port}")`);
      }
      const version = versionSchema.safeParse(opts.lmstudioVersion);
      if (!version.success) {
        throw new UsageError(
          `--lmstudio-version must be one of 0.3.x, 0.4.x, 0.4.21, mlx (got "${opts.lmstudioVersion}")`,
        );
      }
      let models: SimulatedModelSpec[] | undefined;
      if (opts.models !== undefined) {
        try {
          models = await loadModelsFile(opts.models);
        } catch (error) {
          throw new CliError((error as Error).message);
        }
      }
      const sim = await startSimulator({
        port,
        host: opts.host,
        jit: opts.jit,
        lmStudioVersion: version.data,
        ...(models ? { models } : {}),
        ...(opts.apiToken !== undefined ? { apiToken: opts.apiToken } : {}),
        ...(opts.lmstudioHome !== undefined ? { lmStudioHome: opts.lmstudioHome } : {}),
      });
      printBanner(sim, version.data ?? "0.4.x");
      await waitForShutdown(sim, lifetime.signal);
    });
}

function printBanner(sim: RunningSimulator, version: string): void {
  const origin = sim.baseUrl.replace(/\/v1$/, "");
  console.log(`LM Studio simulator (dialect ${version}) listening on port ${sim.port}`);
  console.log(`  OpenAI-compatible API:  ${sim.baseUrl}`);
  console.log(`  REST API:               ${origin}/api/v0  ${origin}/api/v1`);
  console.log(`  SDK (LMStudioClient):   ${sim.wsUrl}`);
  console.log("Press Ctrl-C to stop.");
}

function waitForShutdown(sim: RunningSimulator, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    signal.addEventListener(
      "abort",
      () => {
        console.log("Stopping the simulator…");
        void sim.close().then(resolve);
      },
      { once: true },
    );
  });
}
