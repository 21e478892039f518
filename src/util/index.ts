/** Small shared helpers: logging, scrubbing SQLite files, a directory's fsync. */
export * from "./logger.ts";
export { scrubDatabase } from "./sqlite-scrub.ts";
export { checkSqliteIntegrity, damagedFileError, isSqliteDamage } from "./sqlite-damage.ts";
export { syncDirectory } from "./sync-directory.ts";
export { processExists } from "./process-exists.ts";
