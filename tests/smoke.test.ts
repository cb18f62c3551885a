import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { ChatLMStudio, VERSION } from "../src/index.js";

test("runs on Node 22 or newer", () => {
  expect(Number(process.versions.node.split(".")[0])).toBeGreaterThanOrEqual(22);
});

test("VERSION matches package.json and is recorded on models for traces", () => {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  expect(VERSION).toBe(pkg.version);
  const model = new ChatLMStudio("some-model", { baseUrl: "http://127.0.0.1:1/v1" });
  expect(model.metadata?.versions).toMatchObject({ "langchain-lmstudio": pkg.version });
});

test("the CLI reports the same VERSION", () => {
  const main = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
  const printed = execFileSync(process.execPath, ["--import", "tsx", main, "--version"], {
    encoding: "utf8",
  });
  expect(printed.trim()).toBe(VERSION);
});
