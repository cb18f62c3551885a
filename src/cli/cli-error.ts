import { ModelHostError } from "../context-guard/host.js";
import { LMStudioTimeoutError, LMStudioUnreachableError } from "../lmstudio/errors.js";
import { LMStudioSdkUnavailableError } from "../lmstudio/sdk-endpoint.js";
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
  // Not running, or silent past a deadline (an SDK socket that accepts and never answers): both are
  // "LM Studio did not answer", which scripts handle the same way.
  if (error instanceof LMStudioUnreachableError || error instanceof LMStudioTimeoutError)
    return EXIT.unreachable;
  // A server that is not LM Studio at the URL: LM Studio is not reached there either (a wrong URL).
  if (error instanceof LMStudioSdkUnavailableError) return EXIT.unreachable;
  // The guard's own calls (listing, probing) report the same two failures as host failures.
  if (error instanceof ModelHostError && (error.kind === "disconnect" || error.kind === "timeout"))
    return EXIT.unreachable;
  return EXIT.failed;
}
