import type { Command } from "commander";
import { registerDoctorCommand } from "./doctor.js";
import { registerInferCommand } from "./infer.js";
import { registerListCommand } from "./list.js";
import { registerReportCommand } from "./report.js";
import { registerScanCommand } from "./scan.js";
import { registerStatusCommand } from "./status.js";
import { registerTestCommand } from "./test.js";

/** The context guard's commands, registered together so the CLI entry point needs one line for them. */
export function registerGuardCommands(program: Command): void {
  registerScanCommand(program);
  registerListCommand(program);
  registerTestCommand(program);
  registerStatusCommand(program);
  registerDoctorCommand(program);
  registerInferCommand(program);
  registerReportCommand(program);
}
