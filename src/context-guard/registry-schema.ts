import { z } from "zod";

/**
 * The registry file's shape, validated on every read: a file that does not match is treated as
 * corrupt and recovered from a backup rather than half-trusted.
 */

export const REGISTRY_FORMAT_VERSION = 1;

/** Bumped whenever probe or search change what a "tested max" means; older results are re-tested. */
export const TEST_METHOD_VERSION = 1;

export const failureKindSchema = z.enum([
  "guardrail",
  "load-error",
  "fill-oom",
  "truncated",
  "wrong-answers",
  "timeout",
  "crash",
  "disconnect",
  "not-honoured",
  "aborted",
]);
export type FailureKind = z.infer<typeof failureKindSchema>;

const levelSchema = z.object({
  passed: z.boolean(),
  /** Skipped levels are recorded too, so the log shows why a level did not run. */
  skipped: z.boolean().optional(),
  detail: z.string().optional(),
});
export type LevelRecord = z.infer<typeof levelSchema>;

export const probeRecordSchema = z.object({
  contextLength: z.number().int().positive(),
  /** The context the instance really had (read back); differs from contextLength under auto-fit. */
  loadedContext: z.number().int().nonnegative().optional(),
  /** True when the probe ran on an instance loaded at exactly this size (L0 proven); false on a larger one. */
  loaded: z.boolean(),
  /** True when the verdict came from LM Studio's estimate instead of a load. */
  estimated: z.boolean().optional(),
  passed: z.boolean(),
  failureKind: failureKindSchema.optional(),
  levels: z.object({ L0: levelSchema, L1: levelSchema, L2: levelSchema }),
  promptTokens: z.number().int().nonnegative().optional(),
  expectedPromptTokens: z.number().int().nonnegative().optional(),
  timeToFirstTokenSec: z.number().nonnegative().optional(),
  tokensPerSecond: z.number().nonnegative().optional(),
  at: z.string(),
  durationMs: z.number().nonnegative().optional(),
});
export type ProbeRecord = z.infer<typeof probeRecordSchema>;

export const entryStatusSchema = z.enum(["untested", "testing", "tested", "failed", "incomplete"]);
export type EntryStatus = z.infer<typeof entryStatusSchema>;

export const registryEntrySchema = z.object({
  modelKey: z.string(),
  format: z.string(),
  lmStudioVersion: z.string(),
  /** Stable JSON of the load settings that change the limit (see host.ts LoadSettings). */
  loadSettings: z.string(),
  declaredMax: z.number().int().positive(),
  /** Largest context that passed every level; undefined until one has. */
  testedMax: z.number().int().positive().optional(),
  /** Largest prompt (tokens) verified at testedMax: the clamp never admits a longer one. */
  usablePromptTokens: z.number().int().positive().optional(),
  lastGood: z.number().int().positive().optional(),
  firstBad: z.number().int().positive().optional(),
  failureKind: failureKindSchema.optional(),
  status: entryStatusSchema,
  /** The process running a context search on this model, from its start to its end. */
  testRun: z.object({ pid: z.number().int(), startedAt: z.string() }).optional(),
  /** Written before each load: if the process dies, this is the size it died at. */
  probing: z
    .object({ contextLength: z.number().int().positive(), pid: z.number().int(), startedAt: z.string() })
    .optional(),
  loads: z.number().int().nonnegative(),
  probes: z.array(probeRecordSchema),
  timeToFirstTokenSec: z.number().nonnegative().optional(),
  tokensPerSecond: z.number().nonnegative().optional(),
  methodVersion: z.number().int().positive(),
  sizeBytes: z.number().nonnegative().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  testedAt: z.string().optional(),
});
export type RegistryEntry = z.infer<typeof registryEntrySchema>;

/**
 * Entries by key, parsed into a null-prototype object. `z.record` builds a plain object, where a
 * `__proto__` key (only a hand edit makes one: our keys are JSON arrays) would silently vanish and
 * be lost at the next write; here it stays data like any other key.
 */
const entriesSchema = z
  .custom<Record<string, unknown>>(
    (value) => typeof value === "object" && value !== null && !Array.isArray(value),
    { message: "must be an object of entries" },
  )
  .transform((value, context) => {
    const entries: Record<string, RegistryEntry> = Object.create(null);
    for (const key of Object.keys(value)) {
      const parsed = registryEntrySchema.safeParse(value[key]);
      if (!parsed.success) {
        for (const issue of parsed.error.issues)
          context.addIssue({ code: "custom", message: issue.message, path: [key, ...issue.path] });
        continue;
      }
      Object.defineProperty(entries, key, {
        value: parsed.data,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return entries;
  });

export const registryFileSchema = z.object({
  version: z.literal(REGISTRY_FORMAT_VERSION),
  updatedAt: z.string(),
  entries: entriesSchema,
});
export type RegistryFile = z.infer<typeof registryFileSchema>;

export function emptyRegistry(): RegistryFile {
  return {
    version: REGISTRY_FORMAT_VERSION,
    updatedAt: new Date(0).toISOString(),
    entries: Object.create(null),
  };
}

/** What identifies one measurement: the same model under other settings or versions has other limits. */
export interface EntryIdentity {
  modelKey: string;
  format: string;
  lmStudioVersion: string;
  loadSettings: string;
}

/**
 * The entry's key in the JSON map. A JSON array keeps every part unambiguous whatever characters the
 * model key contains; the key is only ever a JSON property name, never a path.
 */
export function entryKey(identity: EntryIdentity): string {
  return JSON.stringify([
    identity.modelKey,
    identity.format,
    identity.lmStudioVersion,
    identity.loadSettings,
  ]);
}

/** Stable JSON for load settings: keys sorted, undefined dropped, so equal settings give equal keys. */
export function loadSettingsFingerprint(settings: object | undefined): string {
  const entries = Object.entries(settings ?? {})
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(entries));
}

/** A new, untested entry. */
export function freshEntry(
  identity: EntryIdentity,
  details: { declaredMax: number; sizeBytes?: number },
  now: string = new Date().toISOString(),
): RegistryEntry {
  return {
    ...identity,
    declaredMax: details.declaredMax,
    ...(details.sizeBytes !== undefined ? { sizeBytes: details.sizeBytes } : {}),
    status: "untested",
    loads: 0,
    probes: [],
    methodVersion: TEST_METHOD_VERSION,
    createdAt: now,
    updatedAt: now,
  };
}
