/**
 * A piece of work in a process of its own: the launcher (spawn without shell or environment, job over IPC, cancel,
 * an outcome or a failed attempt) and the child's side (one job, calls to the parent, its own peak memory). The
 * backup's data path (src/backup-process, ADR 0044) and the restore's (src/restore-process, ADR 0050) use it.
 */
export { keepSpareProcess, KILL_GRACE_MS, runChild, spareProcessIds, stopSpareProcesses, type ChildChannel, type ChildProtocol, type ChildSpawn, type ChildWatch, type SpareTimings } from "./launcher.ts";
export { ownPeak, ParentCalls, send, serveOneJob, type CallReply, type OwnProcessWork } from "./own-process.ts";
