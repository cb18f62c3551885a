export const VERSION = "0.1.0";
export * from "./chat/index.js";
export * from "./config/index.js";
export * from "./embeddings/index.js";
export * from "./lmstudio/index.js";
export * from "./vision/index.js";
