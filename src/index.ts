export * from "./chat/index.js";
export * from "./config/index.js";
export * from "./context-guard/index.js";
export * from "./embeddings/index.js";
export * from "./lmstudio/index.js";
export { VERSION } from "./version.js";
export * from "./vision/index.js";
