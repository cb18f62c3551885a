import { z } from "zod";

/**
 * The parameter schemas LM Studio checks before it runs an SDK endpoint (the shapes of
 * @lmstudio/sdk 2.0.0's backend interfaces). A parameter that fails its schema gets a
 * `communicationWarning` and no reply, as LM Studio's ServerPort does (reference §10). Endpoints not
 * listed here accept anything. Objects are not strict: unknown keys pass, as in zod's default.
 */

const specifier = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("query"),
    query: z.object({
      domain: z.string().optional(),
      deviceIdentifier: z.string().nullable().optional(),
      identifier: z.string().optional(),
      path: z.string().optional(),
      vision: z.boolean().optional(),
    }),
  }),
  z.object({ type: z.literal("instanceReference"), instanceReference: z.string() }),
]);

const kvConfig = z.object({ fields: z.array(z.object({ key: z.string(), value: z.unknown() })) });
const kvConfigStack = z.object({ layers: z.array(z.object({ layerName: z.string(), config: kvConfig })) });
const ttlMs = z.number().int().min(1).optional();
const deviceIdentifier = z.string().nullable().optional();

const modelEndpoints = {
  loadModel: z.object({
    modelKey: z.string(),
    identifier: z.string().optional(),
    deviceIdentifier,
    ttlMs,
    loadConfigStack: kvConfigStack,
  }),
  getOrLoad: z.object({
    identifier: z.string(),
    deviceIdentifier,
    loadTtlMs: ttlMs,
    loadConfigStack: kvConfigStack,
  }),
  unloadModel: z.object({ identifier: z.string(), deviceIdentifier }),
  getModelInfo: z.object({ specifier, throwIfNotFound: z.boolean() }),
  getLoadConfig: z.object({ specifier }),
  getBasePredictionConfig: z.object({ specifier, ignoreServerSessionConfig: z.boolean().optional() }),
  getInstanceProcessingState: z.object({ specifier, throwIfNotFound: z.boolean() }),
  estimateModelUsage: z.object({ modelKey: z.string(), loadConfigStack: kvConfigStack, deviceIdentifier }),
  tokenize: z.object({ specifier, inputString: z.string() }),
  countTokens: z.object({ specifier, inputString: z.string() }),
} as const;

const SCHEMAS: Record<string, Record<string, z.ZodType>> = {
  llm: {
    ...modelEndpoints,
    predict: z.object({
      modelSpecifier: specifier,
      history: z.object({ messages: z.array(z.unknown()) }),
      predictionConfigStack: kvConfigStack,
    }),
    completeRawText: z.object({
      modelSpecifier: specifier,
      rawPrompt: z.string(),
      predictionConfigStack: kvConfigStack,
    }),
    applyPromptTemplate: z.object({
      specifier,
      history: z.object({ messages: z.array(z.unknown()) }),
      predictionConfigStack: kvConfigStack,
    }),
  },
  embedding: {
    ...modelEndpoints,
    embedString: z.object({ modelSpecifier: specifier, inputString: z.string() }),
  },
  system: {
    listDownloadedModelVariants: z.object({ modelKey: z.string() }),
  },
  files: {
    uploadFileBase64: z.object({ name: z.string(), contentBase64: z.string() }),
    getLocalFileAbsolutePath: z.object({ fileName: z.string() }),
  },
};

/** Why a parameter fails its endpoint's schema (zod's issues, one line), or undefined when it passes. */
export function parameterProblem(
  namespace: string,
  endpoint: string,
  parameter: unknown,
): string | undefined {
  const schema = SCHEMAS[namespace]?.[endpoint];
  if (schema === undefined) return undefined;
  const result = schema.safeParse(parameter);
  if (result.success) return undefined;
  return result.error.issues
    .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
    .join("; ");
}
