/** Small shared helpers: logging, scrubbing SQLite files. */
export * from "./logger.ts";
export { scrubDatabase } from "./sqlite-scrub.ts";
export { checkSqliteIntegrity, damagedFileError, isSqliteDamage } from "./sqlite-damage.ts";
