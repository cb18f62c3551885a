/**
 * The CLI's exit codes, one table for every command, printed by `--help` and listed in the README,
 * so scripts can tell "fix your command line" from "start LM Studio" from "a model failed".
 */
export const EXIT = {
  ok: 0,
  /** The command ran and failed: a file it could not read or write, a save it refused, a failed check. */
  failed: 1,
  /** Invalid option or argument. */
  usage: 2,
  /** LM Studio did not answer: not running, wrong URL, or silent past the deadline. */
  unreachable: 3,
  /** `test`: the run finished, but some model could not be tested. */
  someUntested: 4,
  /** Stopped by Ctrl-C (SIGINT). */
  interrupted: 130,
  /** Stopped by SIGTERM. */
  terminated: 143,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `Exit codes:
  0    success
  1    the command failed (unreadable file, refused save, failed doctor check, server error)
  2    invalid option or argument
  3    cannot reach LM Studio (not running, wrong URL, or no answer within --timeout)
  4    test: finished, but some model could not be tested
  130  interrupted (Ctrl-C); 143 on SIGTERM`;
