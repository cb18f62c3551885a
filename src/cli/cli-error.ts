import { LMStudioUnreachableError } from "../lmstudio/errors.js";
import { EXIT, type ExitCode } from "./exit-codes.js";

/** A failure the CLI reports as one clean line and a documented exit code (no stack trace). */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failed,
  ) {
    super(message);
  }
}

/** A bad option or argument: exit 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** The exit code an error ends the process with. */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof Error && error.name === LMStudioUnreachableError.name) return EXIT.unreachable;
  return EXIT.failed;
}
