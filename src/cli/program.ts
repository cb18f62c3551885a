import { Command, CommanderError } from "commander";
import { VERSION } from "../version.js";
import { exitCodeOf } from "./cli-error.js";
import { registerGuardCommands } from "./commands/guard.js";
import { printError } from "./commands/guard-cli.js";
import { registerSimulateCommand } from "./commands/simulate.js";
import { EXIT, EXIT_CODES_HELP } from "./exit-codes.js";
import { Lifetime, StopRequestedError } from "./lifetime.js";
import { escapeControl } from "./terminal-text.js";

const ENVIRONMENT_HELP = `Environment:
  LMSTUDIO_BASE_URL, LM_API_TOKEN, LMSTUDIO_GUARD_REGISTRY, NO_COLOR (see the README).
  A .env file in the current directory is read first; variables already set in the
  environment win over it.`;

/** The `langchain-lmstudio` CLI; each command lives in its own file under ./commands. */
export function buildProgram(lifetime: Lifetime): Command {
  const program = new Command("langchain-lmstudio")
    .description("LM Studio tools for LangChain.js")
    .version(VERSION)
    // Errors become exit codes in runCli instead of process.exit inside commander.
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(escapeControl(text)) })
    .addHelpText("afterAll", `\n${ENVIRONMENT_HELP}\n\n${EXIT_CODES_HELP}\n`);
  registerGuardCommands(program, lifetime);
  registerSimulateCommand(program, lifetime);
  return program;
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and --version end in a CommanderError too; commander has already printed any message.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof StopRequestedError) return error.exitCode;
  if (error instanceof Error && error.name === "InvalidEnvironmentError") {
    printError(error.message);
    return EXIT.usage;
  }
  printError(error instanceof Error ? error.message : String(error));
  return exitCodeOf(error);
}

/**
 * Runs the CLI on `argv` (process.argv form) and returns the exit code. A forced stop (second
 * signal, or a step still running after the grace period) ends the run with 130/143 after the
 * commands' forced-stop cleanups.
 */
export async function runCli(argv: string[], lifetime: Lifetime = new Lifetime()): Promise<number> {
  const program = buildProgram(lifetime);
  const settled = program.parseAsync(argv).then(() => EXIT.ok as number, exitCodeFor);
  const forced = lifetime.forced.then(async () => {
    await lifetime.runForcedCleanups();
    printError("stopped before the current step finished");
    return lifetime.stopRequestedBy === "SIGTERM" ? EXIT.terminated : EXIT.interrupted;
  });
  try {
    return await Promise.race([settled, forced]);
  } finally {
    lifetime.dispose();
  }
}
