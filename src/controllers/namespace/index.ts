/** The namespace controller. */
export * from "./reconciler.ts";
