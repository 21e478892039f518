/**
 * A backup's data path in a process of its own (ADR 0044): an engine's data-directory archive walked, encoded and
 * stored there, away from the control plane's memory and event loop, while the session that holds the backup stays
 * with the node agent. The backup job gives the engine a sink that starts one per archived stream.
 */
export { archiveInOwnProcess, keepBackupProcessReady, type ArchiveHandlers, type ArchiveResult } from "./launcher.ts";
export { archivingSink, type ArchiveFigures, type ArchivingOptions } from "./sink.ts";
export { archiveJobSchema, parseArchiveMessage, type ArchiveJob, type ArchiveMessage } from "./protocol.ts";
