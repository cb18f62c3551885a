import { defineConfig } from "tsdown";

// Dual ESM + CJS build, one output file per source file (like the @langchain provider packages),
// with publint and attw run on the result so a broken exports map fails the build.
export default defineConfig({
  entry: [
    "src/index.ts",
    "src/vision/index.ts",
    "src/context-guard/index.ts",
    "src/config/index.ts",
    "src/testing/index.ts",
    "src/cli/main.ts",
  ],
  format: ["esm", "cjs"],
  platform: "node",
  target: "node22",
  unbundle: true,
  dts: true,
  sourcemap: true,
  fixedExtension: false,
  clean: true,
  // The simulator's llama.cpp backend imports node-llama-cpp (a devDependency) at run time only;
  // bundling it would inline a native-binding loader into the library.
  deps: { neverBundle: ["node-llama-cpp"] },
  publint: { level: "error", strict: true },
  attw: { profile: "node16", level: "error" },
});
