/** The runtime: where and how instances run. Today the local runtime (supervised OS processes). */
export * from "./local/index.ts";
