/**
 * The context guard loads its own instances as `<model key>@guard-<context>`. They are an
 * implementation detail: never offered as "available models" nor picked as the model to use.
 */
const GUARD_INSTANCE = /@guard-\d+$/;

export function guardInstanceId(modelKey: string, contextLength: number): string {
  return `${modelKey}@guard-${contextLength}`;
}

export function isGuardInstanceId(identifier: string): boolean {
  return GUARD_INSTANCE.test(identifier);
}
