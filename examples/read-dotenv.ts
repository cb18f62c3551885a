/**
 * Imported first by every example entry point: reads `.env` from the working directory before any
 * module reads the settings, as the CLI does. Variables already set in the environment win.
 */
import { loadDotEnv } from "../src/config/index.js";

try {
  loadDotEnv();
} catch (error) {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
