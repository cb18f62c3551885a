import { expect, test } from "vitest";
import { VERSION } from "../src/index.js";

test("runs on Node 22 or newer", () => {
  expect(Number(process.versions.node.split(".")[0])).toBeGreaterThanOrEqual(22);
  expect(VERSION).toMatch(/^\d+\.\d+\.\d+$/);
});
