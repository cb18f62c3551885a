import { z } from "zod";

/**
 * The environment schema: the only code in the library that reads environment variables.
 * Everything else receives plain settings from here.
 */

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .optional();

const optionalUrl = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .pipe(
    z
      .url({ protocol: /^https?$/, error: "must be an http(s) URL, e.g. http://localhost:1234/v1" })
      .optional(),
  )
  .optional();

/** Largest count accepted for token limits: anything above is a typo, and 400 nines would be Infinity. */
const MAX_COUNT = 2 ** 31 - 1;

const optionalPositiveInt = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .pipe(
    z
      .string()
      .regex(/^[1-9]\d*$/, { error: "must be a whole number greater than 0" })
      .refine((value) => Number(value) <= MAX_COUNT, { error: `must be at most ${MAX_COUNT}` })
      .transform(Number)
      .optional(),
  )
  .optional();

/**
 * Why `token` cannot be sent as `Authorization: Bearer <token>`, or undefined when it can. Never
 * quotes the token: the message ends up in logs. HTTP header values allow no control characters
 * (CR, LF and NUL included) and nothing outside Latin-1.
 */
export function apiTokenProblem(token: string): string | undefined {
  for (let i = 0; i < token.length; i++) {
    const code = token.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) {
      return `contains a control character (code ${code}) at position ${i + 1}, which cannot be sent in an HTTP header`;
    }
    if (code > 0xff)
      return `contains a character outside Latin-1 at position ${i + 1}, which cannot be sent in an HTTP header`;
  }
  return undefined;
}

const optionalApiToken = optionalString.superRefine((value, context) => {
  const problem = value === undefined ? undefined : apiTokenProblem(value);
  if (problem) context.addIssue({ code: "custom", message: problem });
});

export const LMSTUDIO_DEFAULT_BASE_URL = "http://localhost:1234/v1";
export const OLLAMA_DEFAULT_BASE_URL = "http://127.0.0.1:11434";

const lmStudioShape = {
  LMSTUDIO_BASE_URL: optionalUrl,
  LMSTUDIO_HOST: optionalUrl,
  LMSTUDIO_MODEL: optionalString,
  LMSTUDIO_VISION_MODEL: optionalString,
  LMSTUDIO_EMBEDDING_MODEL: optionalString,
  LMSTUDIO_MAX_TOKENS: optionalPositiveInt,
  LMSTUDIO_CONTEXT_LENGTH: optionalPositiveInt,
  LM_API_TOKEN: optionalApiToken,
  LMSTUDIO_API_KEY: optionalApiToken,
  LMSTUDIO_GUARD_REGISTRY: optionalString,
};

export const environmentSchema = z.object({
  LLM_PROVIDER: z
    .string()
    .trim()
    .toLowerCase()
    .transform((value) => (value === "" ? undefined : value))
    .pipe(
      z
        .enum(["openai", "ollama", "lmstudio"], { error: "must be one of openai, ollama, lmstudio" })
        .optional(),
    )
    .optional(),
  ...lmStudioShape,
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalUrl,
  OPENAI_MODEL: optionalString,
  OPENAI_VISION_MODEL: optionalString,
  OPENAI_EMBEDDING_MODEL: optionalString,
  OLLAMA_BASE_URL: optionalUrl,
  OLLAMA_MODEL: optionalString,
  OLLAMA_VISION_MODEL: optionalString,
  OLLAMA_EMBEDDING_MODEL: optionalString,
});

const lmStudioSchema = z.object(lmStudioShape);

export type Provider = "openai" | "ollama" | "lmstudio";

/** LM Studio settings, resolved with their documented precedence and defaults. */
export interface LMStudioSettings {
  baseUrl: string;
  model?: string;
  visionModel?: string;
  embeddingModel?: string;
  maxTokens?: number;
  contextLength?: number;
  /** Secret: never log it. */
  apiKey?: string;
  guardRegistryPath?: string;
}

export interface ProviderConfig {
  provider: Provider;
  lmstudio: LMStudioSettings;
  openai: {
    apiKey?: string;
    baseUrl?: string;
    model?: string;
    visionModel?: string;
    embeddingModel?: string;
  };
  ollama: { baseUrl: string; model?: string; visionModel?: string; embeddingModel?: string };
}

type EnvSource = Record<string, string | undefined>;

/** Every invalid variable, named, in one error. */
export class InvalidEnvironmentError extends Error {
  override readonly name = "InvalidEnvironmentError";
  constructor(readonly problems: Array<{ variable: string; problem: string }>) {
    super(
      `Invalid environment: ${problems.length} variable${problems.length === 1 ? "" : "s"} to fix:\n` +
        problems.map(({ variable, problem }) => `  - ${variable}: ${problem}`).join("\n"),
    );
  }
}

function problemsOf(error: z.ZodError): Array<{ variable: string; problem: string }> {
  return error.issues.map((issue) => ({
    variable: String(issue.path[0] ?? "(root)"),
    problem: issue.message,
  }));
}

function toLMStudioSettings(values: z.infer<typeof lmStudioSchema>): LMStudioSettings {
  return {
    baseUrl: values.LMSTUDIO_BASE_URL ?? values.LMSTUDIO_HOST ?? LMSTUDIO_DEFAULT_BASE_URL,
    model: values.LMSTUDIO_MODEL,
    visionModel: values.LMSTUDIO_VISION_MODEL,
    embeddingModel: values.LMSTUDIO_EMBEDDING_MODEL,
    maxTokens: values.LMSTUDIO_MAX_TOKENS,
    contextLength: values.LMSTUDIO_CONTEXT_LENGTH,
    apiKey: values.LM_API_TOKEN ?? values.LMSTUDIO_API_KEY,
    guardRegistryPath: values.LMSTUDIO_GUARD_REGISTRY,
  };
}

function pickDefined(env: EnvSource, keys: string[]): EnvSource {
  return Object.fromEntries(keys.filter((key) => env[key] !== undefined).map((key) => [key, env[key]]));
}

/**
 * LM Studio settings only: a bad OPENAI_* variable never breaks an LM Studio-only app.
 * Throws InvalidEnvironmentError naming every bad LMSTUDIO_* / LM_API_TOKEN variable.
 */
export function lmStudioSettings(env: EnvSource = process.env): LMStudioSettings {
  const parsed = lmStudioSchema.safeParse(pickDefined(env, Object.keys(lmStudioShape)));
  if (!parsed.success) throw new InvalidEnvironmentError(problemsOf(parsed.error));
  return toLMStudioSettings(parsed.data);
}

/**
 * The LM Studio settings a constructor falls back on: the `settings` it was given, else the
 * environment's, read only when one of the caller's `explicit` fields is missing, so explicit options
 * never fail on an unrelated bad variable.
 */
export function lmStudioSettingsFor(
  given: LMStudioSettings | undefined,
  explicit: readonly unknown[],
): LMStudioSettings {
  if (given) return given;
  return explicit.some((value) => value === undefined)
    ? lmStudioSettings()
    : { baseUrl: LMSTUDIO_DEFAULT_BASE_URL };
}

/** The whole environment, validated at once; every bad variable is reported in one error. */
export function loadConfig(env: EnvSource = process.env): ProviderConfig {
  const parsed = environmentSchema.safeParse(pickDefined(env, Object.keys(environmentSchema.shape)));
  if (!parsed.success) throw new InvalidEnvironmentError(problemsOf(parsed.error));
  const values = parsed.data;
  return {
    provider: values.LLM_PROVIDER ?? "lmstudio",
    lmstudio: toLMStudioSettings(values),
    openai: {
      apiKey: values.OPENAI_API_KEY,
      baseUrl: values.OPENAI_BASE_URL,
      model: values.OPENAI_MODEL,
      visionModel: values.OPENAI_VISION_MODEL,
      embeddingModel: values.OPENAI_EMBEDDING_MODEL,
    },
    ollama: {
      baseUrl: values.OLLAMA_BASE_URL ?? OLLAMA_DEFAULT_BASE_URL,
      model: values.OLLAMA_MODEL,
      visionModel: values.OLLAMA_VISION_MODEL,
      embeddingModel: values.OLLAMA_EMBEDDING_MODEL,
    },
  };
}

/** The NO_COLOR convention (https://no-color.org): any non-empty value turns terminal colours off. */
export function colorDisabled(env: EnvSource = process.env): boolean {
  return Boolean(env.NO_COLOR);
}
