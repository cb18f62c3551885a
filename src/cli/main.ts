#!/usr/bin/env node
import { Command } from "commander";
import { VERSION } from "../version.js";
import { registerGuardCommands } from "./commands/guard.js";
import { registerSimulateCommand } from "./commands/simulate.js";

/** The `langchain-lmstudio` CLI; each command lives in its own file under ./commands. */
export function buildProgram(): Command {
  const program = new Command("langchain-lmstudio")
    .description("LM Studio tools for LangChain.js")
    .version(VERSION);
  registerGuardCommands(program);
  registerSimulateCommand(program);
  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
