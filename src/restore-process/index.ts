/**
 * A restore's data path in a process of its own (ADR 0050): the backup's chunks read, checked, decrypted and
 * decompressed, the tar unpacked and made durable there, away from the control plane's event loop, with a peak
 * memory of its own. The node agent starts one per restore and follows it.
 */
export { KILL_GRACE_MS, keepRestoreProcessReady, unpackInProcess, type UnpackResult, type UnpackWatch } from "./launcher.ts";
export { failureError, failureSchema, reportFailure, unpackJobSchema, type ChildMessage, type FailureReport, type UnpackJob } from "./protocol.ts";
