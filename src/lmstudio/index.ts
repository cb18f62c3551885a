export * from "./error-mapping.js";
export * from "./errors.js";
export * from "./urls.js";
