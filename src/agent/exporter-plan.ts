/** What the node agent should do about an instance's exporter (pure). */
import type { Instance } from "../api/index.ts";

/** The finalizer held while an exporter may run beside the instance, so it is stopped before the instance goes. */
export const EXPORTER_FINALIZER = "holdfast.io/exporter";

/** What the exporter of one instance needs now. */
export type ExporterStep =
  | { kind: "stop"; why: string }
  | { kind: "wait"; why: string }
  | { kind: "start" }
  | { kind: "account" }
  | { kind: "keep" };

/**
 * An exporter runs while the instance should run (spec.running), is not being deleted, has no `disableExporter`, and
 * its database has been started once. It keeps running while the database is down: that is what it reports.
 * The monitoring account is set again after each start of the database (Redis keeps run-time ACL users in memory only).
 */
export function exporterStep(instance: Instance, hasExporter: boolean, exporterRunning: boolean): ExporterStep {
  if (!hasExporter) return { kind: "stop", why: "the engine has no exporter" };
  if (instance.metadata.deletionTimestamp !== undefined) return { kind: "stop", why: "the instance is being deleted" };
  if (instance.spec.disableExporter === true) return { kind: "stop", why: "disableExporter is set" };
  if (!instance.spec.running) return { kind: "stop", why: "the instance is stopped" };
  const status = instance.status;
  if (status?.startedAt === undefined) return { kind: "wait", why: "the database has not started yet" };
  if (!exporterRunning) return { kind: "start" };
  if (status.ready === true && status.exporter?.accountFor !== status.startedAt) return { kind: "account" };
  return { kind: "keep" };
}
