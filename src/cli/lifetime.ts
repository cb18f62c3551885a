import { CliError } from "./cli-error.js";
import { EXIT } from "./exit-codes.js";

/**
 * Ctrl-C and SIGTERM for the CLI. The first signal asks the running command to stop (its
 * `signal` aborts; `test` finishes the current step, unloads and records it); commands that have
 * nothing to finish stop at once. A second signal, or a step that has not finished within
 * `graceMs`, forces the stop: the cleanups registered with `onForcedStop` run (bounded), then the
 * process ends.
 */

export type StopSignal = "SIGINT" | "SIGTERM";

export class StopRequestedError extends CliError {
  constructor(readonly by: StopSignal) {
    super(
      by === "SIGINT" ? "interrupted" : "terminated",
      by === "SIGINT" ? EXIT.interrupted : EXIT.terminated,
    );
  }
}

export class Lifetime {
  private readonly controller = new AbortController();
  /** Aborted on the first SIGINT/SIGTERM. */
  readonly signal: AbortSignal = this.controller.signal;
  /** Rejects with StopRequestedError on the first signal (observed, so never an unhandled rejection). */
  readonly stopped: Promise<never>;
  /** Resolves when the stop is forced (second signal or grace period over). */
  readonly forced: Promise<void>;
  stopRequestedBy: StopSignal | undefined;
  private rejectStopped: (error: StopRequestedError) => void = () => undefined;
  private resolveForced: () => void = () => undefined;
  private readonly cleanups = new Set<() => Promise<void>>();
  private graceTimer: NodeJS.Timeout | undefined;

  private notify: (message: string) => void;

  constructor(
    private readonly graceMs = 8000,
    notify: (message: string) => void = (message) => process.stderr.write(message),
  ) {
    this.notify = notify;
    this.stopped = new Promise<never>((_, reject) => {
      this.rejectStopped = reject;
    });
    this.stopped.catch(() => undefined);
    this.forced = new Promise<void>((resolve) => {
      this.resolveForced = resolve;
    });
  }

  /** What a signal handler calls. */
  stop(by: StopSignal): void {
    if (this.stopRequestedBy !== undefined) {
      this.notify("forcing the stop\n");
      this.force();
      return;
    }
    this.stopRequestedBy = by;
    this.notify(`stopping (${by}) after the current step; press Ctrl-C again to stop at once\n`);
    this.controller.abort(new StopRequestedError(by));
    this.rejectStopped(new StopRequestedError(by));
    this.graceTimer = setTimeout(() => this.force(), this.graceMs);
    this.graceTimer.unref();
  }

  private force(): void {
    clearTimeout(this.graceTimer);
    this.resolveForced();
  }

  /** Routes the stop messages elsewhere (e.g. above progress bars) until the returned function is called. */
  notifyThrough(notify: (message: string) => void): () => void {
    const previous = this.notify;
    this.notify = notify;
    return () => {
      this.notify = previous;
    };
  }

  /** Registers a cleanup for a forced stop (e.g. clearing this process's registry markers); returns its removal. */
  onForcedStop(cleanup: () => Promise<void>): () => void {
    this.cleanups.add(cleanup);
    return () => this.cleanups.delete(cleanup);
  }

  /** Runs the forced-stop cleanups, each bounded, in parallel. */
  async runForcedCleanups(boundMs = 2000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.cleanups].map((cleanup) => cleanup())),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, boundMs);
      }),
    ]);
    clearTimeout(timer);
  }

  dispose(): void {
    clearTimeout(this.graceTimer);
  }
}
