import type { Command } from "commander";
import { sdkVersion } from "../../context-guard/index.js";
import { serverOrigin, withoutCredentials } from "../../lmstudio/urls.js";
import {
  baseUrlOf,
  colors,
  type GuardCliOptions,
  openGuard,
  printJson,
  withGuardOptions,
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

/** `doctor`: is the server reachable over HTTP and the SDK socket, which versions, is the registry healthy. Exit 1 on a problem. */
export function registerDoctorCommand(program: Command): void {
  withGuardOptions(
    program.command("doctor").description("check the server, versions and the context registry"),
  )
    .option("--json", "one JSON object per check")
    .action(async (options: GuardCliOptions & { json?: boolean }) => {
      const checks: Check[] = [];
      // The library never sends user:password from a base URL (and must not print it): neither does doctor.
      const baseUrl = withoutCredentials(baseUrlOf(options));
      const models = await httpStatus(`${baseUrl.replace(/\/+$/, "")}/models`);
      checks.push({ check: "http", ok: models === 200, detail: `GET ${baseUrl}/models → ${models}` });
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
      const guard = openGuard(options);
      try {
        const downloaded = await guard.host
          .listDownloaded()
          .catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
        const version = downloaded instanceof Error ? "unknown" : await guard.host.serverVersion();
        checks.push({
          check: "sdk",
          ok: !(downloaded instanceof Error),
          detail:
            downloaded instanceof Error
              ? `@lmstudio/sdk ${sdkVersion()} could not connect: ${downloaded.message}`
              : `@lmstudio/sdk ${sdkVersion()} connected; LM Studio ${version}; ${downloaded.length} models downloaded`,
        });
        const health = await guard.registry.health();
        checks.push({
          check: "registry",
          ok: !health.exists || health.valid,
          detail:
            `${health.path}: ${health.exists ? (health.valid ? `valid, ${health.entries} entries` : `INVALID (${health.problem})`) : "not created yet"}; ` +
            `${health.backups.length} backups${health.corruptFiles.length > 0 ? `; ${health.corruptFiles.length} corrupt file(s) kept aside` : ""}`,
        });
      } finally {
        await guard.close();
      }
      for (const c of checks) {
        if (options.json) printJson(c);
        else
          process.stdout.write(
            `${c.ok ? colors.green("ok  ") : colors.red("FAIL")} ${c.check.padEnd(9)} ${c.detail}\n`,
          );
      }
      if (checks.some((c) => !c.ok)) process.exitCode = 1;
    });
}
