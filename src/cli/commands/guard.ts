import type { Command } from "commander";
import type { Lifetime } from "../lifetime.js";
import { registerDoctorCommand } from "./doctor.js";
import { registerInferCommand } from "./infer.js";
import { registerListCommand } from "./list.js";
import { registerReportCommand } from "./report.js";
import { registerSaveCommand } from "./save.js";
import { registerScanCommand } from "./scan.js";
import { registerStatusCommand } from "./status.js";
import { registerTestCommand } from "./test.js";

/** The context guard's commands, registered together so the CLI entry point needs one line for them. */
export function registerGuardCommands(program: Command, lifetime: Lifetime): void {
  registerScanCommand(program, lifetime);
  registerListCommand(program);
  registerTestCommand(program, lifetime);
  registerStatusCommand(program, lifetime);
  registerDoctorCommand(program, lifetime);
  registerInferCommand(program, lifetime);
  registerSaveCommand(program, lifetime);
  registerReportCommand(program);
}
