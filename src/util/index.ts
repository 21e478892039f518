/** Small shared helpers: logging. */
export * from "./logger.ts";
