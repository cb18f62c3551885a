import type { Command } from "commander";
import { sdkVersion } from "../../context-guard/model-host.js";
import { lmStudioSettings } from "../../env/env.js";
import { serverOrigin } from "../../lmstudio/urls.js";
import { CliError, exitCodeOf } from "../cli-error.js";
import { EXIT } from "../exit-codes.js";
import type { Lifetime } from "../lifetime.js";
import { ensureReachable, withoutCredentials } from "../reachability.js";
import { escapeControlLine } from "../terminal-text.js";
import {
  baseUrlOf,
  colors,
  type GuardCliOptions,
  openRegistry,
  printJson,
  printLine,
  withGuardOptions,
  withServer,
} from "./guard-cli.js";

interface Check {
  check: string;
  ok: boolean;
  detail: string;
}

async function httpStatus(url: string): Promise<number | string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await response.body?.cancel();
    return response.status;
  } catch (error) {
    return error instanceof Error
      ? error.cause instanceof Error
        ? error.cause.message
        : error.message
      : String(error);
  }
}

async function sdkCheck(
  options: GuardCliOptions,
  lifetime: Lifetime,
): Promise<Check & { failure?: unknown }> {
  try {
    const detail = await withServer(options, lifetime, async (guard) => {
      const downloaded = await guard.host.listDownloaded();
      const version = await guard.host.serverVersion();
      return `@lmstudio/sdk ${sdkVersion()} connected; LM Studio ${version}; ${downloaded.length} models downloaded`;
    });
    return { check: "sdk", ok: true, detail };
  } catch (error) {
    if (error instanceof Error && error.name === "StopRequestedError") throw error;
    const message = error instanceof Error ? error.message : String(error);
    return {
      check: "sdk",
      ok: false,
      detail: `@lmstudio/sdk ${sdkVersion()} could not connect: ${message}`,
      failure: error,
    };
  }
}

/**
 * `doctor`: is the server reachable over HTTP and the SDK socket, which versions, is the registry
 * healthy. Prints every check, then exits 3 when LM Studio cannot be reached and 1 on another problem.
 */
export function registerDoctorCommand(program: Command, lifetime: Lifetime): void {
  withGuardOptions(
    program.command("doctor").description("check the server, versions and the context registry"),
    { defaultSeconds: 20 },
  )
    .option("--json", "one JSON object per check")
    .action(async (options: GuardCliOptions & { json?: boolean }) => {
      const checks: Check[] = [];
      const baseUrl = baseUrlOf(options);
      const shownUrl = withoutCredentials(baseUrl);
      const apiKey = lmStudioSettings().apiKey;
      const unreachable = await ensureReachable(baseUrl, {
        timeoutMs: 5000,
        ...(apiKey ? { apiKey } : {}),
      }).then(
        () => undefined,
        (error: unknown) => error,
      );
      const models = await httpStatus(`${shownUrl.replace(/\/+$/, "")}/models`);
      checks.push({ check: "http", ok: models === 200, detail: `GET ${shownUrl}/models → ${models}` });
      const origin = serverOrigin(baseUrl);
      const [v1, v0] = await Promise.all([
        httpStatus(`${origin}/api/v1/models`),
        httpStatus(`${origin}/api/v0/models`),
      ]);
      checks.push({
        check: "rest-api",
        ok: v1 === 200 || v0 === 200,
        detail: `/api/v1/models → ${v1}, /api/v0/models → ${v0}`,
      });
      const { failure: sdkFailure, ...sdk } =
        unreachable === undefined
          ? await sdkCheck(options, lifetime)
          : {
              check: "sdk",
              ok: false,
              detail: "skipped: the server does not answer HTTP",
              failure: undefined,
            };
      checks.push(sdk);
      const health = await openRegistry(options).health();
      checks.push({
        check: "registry",
        ok: !health.exists || health.valid,
        detail:
          `${health.path}: ${health.exists ? (health.valid ? `valid, ${health.entries} entries` : `INVALID (${health.problem})`) : "not created yet"}; ` +
          `${health.backups.length} backups${health.corruptFiles.length > 0 ? `; ${health.corruptFiles.length} corrupt file(s) kept aside` : ""}`,
      });
      for (const c of checks) {
        if (options.json) printJson(c);
        else
          printLine(
            `${c.ok ? colors.green("ok  ") : colors.red("FAIL")} ${c.check.padEnd(9)} ${escapeControlLine(c.detail)}`,
          );
      }
      if (unreachable !== undefined) throw unreachable;
      // HTTP answers but the SDK socket does not: the same exit code as a stopped server.
      if (exitCodeOf(sdkFailure) === EXIT.unreachable) throw sdkFailure;
      const failed = checks.filter((c) => !c.ok).length;
      if (failed > 0) throw new CliError(`${failed} check${failed === 1 ? "" : "s"} failed`);
    });
}
