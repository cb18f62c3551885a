import { readFileSync } from "node:fs";
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
