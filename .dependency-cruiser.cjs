/**
 * The layering DESIGN.md describes, checked on every CI run (`npm run check:deps`):
 *   env/ (reads the environment) → lmstudio/ → context-guard/ → chat/ embeddings/ vision/ → config/ → cli/
 * dependencies point down only, no import cycle between folders, and the simulator (testing/) is
 * neither imported by the library nor importing it.
 * @type {import("dependency-cruiser").IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: "no-folder-cycles",
      comment: "Folders under src/ import each other one way only (a cycle means a layer is split wrong).",
      severity: "error",
      scope: "folder",
      // src/ itself holds only the root entry and version.ts, which every layer may use.
      from: { path: "^src/[^/]+", pathNot: "^src$" },
      to: { path: "^src/[^/]+", pathNot: "^src$", circular: true },
    },
    {
      name: "no-module-cycles",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "library-does-not-import-the-simulator",
      comment: "Only tests and the CLI's `simulate` command load src/testing.",
      severity: "error",
      from: { path: "^src/", pathNot: ["^src/testing/", "^src/cli/"] },
      to: { path: "^src/testing/" },
    },
    {
      name: "simulator-stands-alone",
      comment: "The simulator is a fake LM Studio: it imports nothing from the library.",
      severity: "error",
      from: { path: "^src/testing/" },
      to: { path: "^src/", pathNot: "^src/testing/" },
    },
    {
      name: "env-is-the-bottom-layer",
      severity: "error",
      from: { path: "^src/env/" },
      to: { path: "^src/", pathNot: "^src/env/" },
    },
    {
      name: "lmstudio-quirks-below-the-guard-and-models",
      severity: "error",
      from: { path: "^src/lmstudio/" },
      to: { path: "^src/(context-guard|chat|embeddings|vision|config|cli)/" },
    },
    {
      name: "guard-below-the-models",
      comment: "chat, embeddings and vision call the guard; the guard never imports them.",
      severity: "error",
      from: { path: "^src/context-guard/" },
      to: { path: "^src/(chat|embeddings|vision|config|cli)/" },
    },
    {
      name: "models-below-the-factories",
      severity: "error",
      from: { path: "^src/(chat|embeddings|vision)/" },
      to: { path: "^src/(config|cli)/" },
    },
    {
      name: "nothing-imports-the-cli",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/cli/" },
      to: { path: "^src/cli/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // Type-only imports count: a cycle in types is still a layer split wrong.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
