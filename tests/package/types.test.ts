import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, expect, it } from "vitest";
import { assertFreshBuild, REPO_ROOT } from "./built-package.js";

const run = promisify(execFile);

beforeAll(assertFreshBuild);

it("the built declarations type-check tests/types (structured output, vision pages, factories, CJS)", async () => {
  const tsc = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
  const result = await run(
    process.execPath,
    [tsc, "-p", join(REPO_ROOT, "tests", "types", "tsconfig.json")],
    {
      cwd: REPO_ROOT,
      timeout: 120_000,
    },
  ).then(
    ({ stdout }) => ({ code: 0, output: stdout }),
    (error: { code?: number; stdout?: string }) => ({ code: error.code ?? 1, output: error.stdout ?? "" }),
  );
  // tsc prints every type error; none means every expectTypeOf and @ts-expect-error held.
  expect(result.output).toBe("");
  expect(result.code).toBe(0);
}, 120_000);
