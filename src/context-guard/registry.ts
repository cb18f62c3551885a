import { mkdir, readdir, readFile, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { lock } from "proper-lockfile";
import writeFileAtomic from "write-file-atomic";
import {
  type EntryIdentity,
  emptyRegistry,
  entryKey,
  type RegistryEntry,
  type RegistryFile,
  registryFileSchema,
} from "./registry-schema.js";

/**
 * The registry file: one JSON document, written atomically (temp file + rename) under a lock that
 * holds across processes, with every read-modify-write done inside the lock so no update is lost.
 * Before each write the previous version is kept as a backup (newest 10). A file that does not parse
 * or validate is moved aside and the newest valid backup takes its place.
 */

export interface RegistryOptions {
  /** How many backups to keep (default 10). */
  backups?: number;
  /** A lock older than this is considered abandoned by a dead process (ms, default 10 000). */
  lockStaleMs?: number;
  onWarning?: (message: string) => void;
}

export interface RegistryHealth {
  path: string;
  exists: boolean;
  valid: boolean;
  problem?: string;
  entries: number;
  backups: string[];
  corruptFiles: string[];
}

type Parsed = { ok: true; file: RegistryFile } | { ok: false; problem: string; missing: boolean };

let backupSequence = 0;

export class ContextRegistry {
  private readonly keep: number;
  private readonly staleMs: number;

  constructor(
    readonly path: string,
    private readonly options: RegistryOptions = {},
  ) {
    this.keep = options.backups ?? 10;
    this.staleMs = options.lockStaleMs ?? 10_000;
  }

  get backupDir(): string {
    return `${this.path}.backups`;
  }

  private warn(message: string): void {
    this.options.onWarning?.(message);
  }

  private async parse(): Promise<Parsed> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT")
        return { ok: false, problem: "missing", missing: true };
      throw error;
    }
    return parseRegistryText(text);
  }

  /**
   * The current contents. Reads need no lock (writes are atomic renames); only a corrupt file takes
   * the lock, to recover it exactly once.
   */
  async read(): Promise<RegistryFile> {
    const parsed = await this.parse();
    if (parsed.ok) return parsed.file;
    if (parsed.missing) return emptyRegistry();
    return this.withLock(() => this.readForUpdate());
  }

  async entries(): Promise<RegistryEntry[]> {
    return Object.values((await this.read()).entries);
  }

  async find(identity: EntryIdentity): Promise<RegistryEntry | undefined> {
    return (await this.read()).entries[entryKey(identity)];
  }

  /** Read-modify-write under the lock. `mutate` changes the file in place and may return a value. */
  async update<T>(mutate: (file: RegistryFile) => T | Promise<T>): Promise<T> {
    return this.withLock(async () => {
      const file = await this.readForUpdate();
      const result = await mutate(file);
      file.updatedAt = new Date().toISOString();
      const checked = registryFileSchema.parse(file);
      await this.backupCurrent();
      await writeFileAtomic(this.path, `${JSON.stringify(checked, null, 2)}\n`, { fsync: true });
      return result;
    });
  }

  /** Replaces one entry (by its identity) with what `mutate` returns from the current one. */
  async updateEntry(
    identity: EntryIdentity,
    mutate: (current: RegistryEntry | undefined) => RegistryEntry,
  ): Promise<RegistryEntry> {
    return this.update((file) => {
      const key = entryKey(identity);
      const next = mutate(file.entries[key]);
      file.entries[key] = next;
      return next;
    });
  }

  async health(): Promise<RegistryHealth> {
    const parsed = await this.parse();
    const siblings = await readdir(dirname(this.path)).catch(() => [] as string[]);
    const prefix = `${basename(this.path)}.corrupt-`;
    return {
      path: this.path,
      exists: parsed.ok || !parsed.missing,
      valid: parsed.ok,
      ...(parsed.ok ? {} : { problem: parsed.problem }),
      entries: parsed.ok ? Object.keys(parsed.file.entries).length : 0,
      backups: await this.listBackups(),
      corruptFiles: siblings
        .filter((name) => name.startsWith(prefix))
        .map((name) => join(dirname(this.path), name)),
    };
  }

  /** Backup files, newest first. */
  async listBackups(): Promise<string[]> {
    const names = await readdir(this.backupDir).catch(() => [] as string[]);
    return names
      .filter((name) => name.endsWith(".json"))
      .sort()
      .reverse()
      .map((name) => join(this.backupDir, name));
  }

  private async withLock<T>(run: () => Promise<T>): Promise<T> {
    await mkdir(dirname(this.path), { recursive: true });
    const release = await lock(this.path, {
      realpath: false,
      lockfilePath: `${this.path}.lock`,
      stale: this.staleMs,
      // Eight processes hammering one file must all get through: many short, jittered retries.
      retries: { retries: 1000, factor: 1.3, minTimeout: 2, maxTimeout: 40, randomize: true },
      onCompromised: (error) => this.warn(`registry lock was compromised: ${error.message}`),
    });
    try {
      return await run();
    } finally {
      await release().catch(() => undefined);
    }
  }

  /** Inside the lock: the current file, recovered from backups if it is corrupt. */
  private async readForUpdate(): Promise<RegistryFile> {
    const parsed = await this.parse();
    if (parsed.ok) return parsed.file;
    if (parsed.missing) return emptyRegistry();
    const aside = `${this.path}.corrupt-${fileStamp()}`;
    await rename(this.path, aside);
    for (const backup of await this.listBackups()) {
      const candidate = parseRegistryText(await readFile(backup, "utf8").catch(() => ""));
      if (candidate.ok) {
        await writeFileAtomic(this.path, `${JSON.stringify(candidate.file, null, 2)}\n`, { fsync: true });
        this.warn(
          `registry ${this.path} was corrupt (${parsed.problem}); kept it as ${aside}, restored ${backup}`,
        );
        return candidate.file;
      }
    }
    this.warn(
      `registry ${this.path} was corrupt (${parsed.problem}) and no backup was valid; kept it as ${aside}`,
    );
    return emptyRegistry();
  }

  private async backupCurrent(): Promise<void> {
    const current = await readFile(this.path, "utf8").catch(() => undefined);
    if (current === undefined || !parseRegistryText(current).ok) return;
    await mkdir(this.backupDir, { recursive: true });
    backupSequence += 1;
    const name = `${fileStamp()}-${process.pid}-${String(backupSequence).padStart(6, "0")}.json`;
    await writeFileAtomic(join(this.backupDir, name), current);
    const backups = await this.listBackups();
    for (const old of backups.slice(this.keep)) await unlink(old).catch(() => undefined);
  }
}

function parseRegistryText(text: string): Parsed {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `not JSON: ${(error as Error).message}`, missing: false };
  }
  const result = registryFileSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    return {
      ok: false,
      problem: `invalid: ${issue?.path.join(".") ?? ""} ${issue?.message ?? ""}`.trim(),
      missing: false,
    };
  }
  return { ok: true, file: result.data };
}

/** A timestamp that sorts as text and is a valid file name on every platform. */
function fileStamp(): string {
  return new Date().toISOString().replace(/[:.]/g, "-");
}
