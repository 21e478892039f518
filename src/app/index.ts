/** The control plane process: everything wired together. */
export * from "./run-server.ts";
export * from "./server-info.ts";
export * from "./init.ts";
export * from "./join.ts";
