export * from "./connection-errors.js";
export * from "./error-mapping.js";
export * from "./errors.js";
export * from "./fetch-json.js";
export * from "./guard-instances.js";
export * from "./model-info.js";
export * from "./optional-peer.js";
export * from "./urls.js";
