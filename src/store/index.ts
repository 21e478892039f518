/** The store: its contract, the embedded sqlite implementation and label selectors. */
export type * from "./types.ts";
export type * from "./leases.ts";
export { UNREADABLE_ANNOTATION } from "./types.ts";
export { openSqliteStore, type SqliteStoreOptions } from "./sqlite/index.ts";
export { matchesLabelSelector, parseLabelSelector, type LabelOperator, type LabelRequirement, type LabelSelector } from "./label-selector.ts";
