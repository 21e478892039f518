/** The embedded store over node:sqlite. */
export { openSqliteStore, type SqliteStoreOptions } from "./sqlite-store.ts";
