/** Per-cluster high-availability settings, read from the Cluster's annotations with defaults (pure): the ha controller and the node agent read them alike. */
import type { Cluster } from "./cluster.ts";

/** Annotations that tune role probes and failover; absent or invalid values fall back to the defaults. */
export const ANNOTATION_PROBE_PERIOD = "holdfast.io/ha-probe-period-seconds";
export const ANNOTATION_FAILURE_THRESHOLD = "holdfast.io/ha-failure-threshold";
export const ANNOTATION_FAILOVER = "holdfast.io/ha-failover";
export const ANNOTATION_SWITCHOVER_TIMEOUT = "holdfast.io/ha-switchover-catch-up-seconds";
export const ANNOTATION_LEASE = "holdfast.io/ha-lease-seconds";

/** How the ha controller watches and acts on one cluster. */
export interface HaSettings {
  /** How often each instance's role is probed. */
  probePeriodMs: number;
  /** Failed probes in a row of a primary that is not starting before it is failed over. */
  failureThreshold: number;
  /** Fail over automatically (`holdfast.io/ha-failover: "false"` turns it off). */
  automaticFailover: boolean;
  /** How long a switchover waits for the candidate to receive the former primary's last WAL. */
  catchUpTimeoutMs: number;
  /** A primary that started this recently is still coming up, not failing. */
  startGraceMs: number;
  /**
   * The primary lease (ADR 0029): the primary's node agent renews it; one that cannot fences its primary before it
   * expires, and another instance is promoted only once it has expired or been released.
   */
  leaseDurationMs: number;
}

export const DEFAULT_HA_SETTINGS: HaSettings = { probePeriodMs: 1000, failureThreshold: 3, automaticFailover: true, catchUpTimeoutMs: 30_000, startGraceMs: 30_000, leaseDurationMs: 5000 };

function positive(value: string | undefined, min: number, max: number): number | undefined {
  const text = value?.trim() ?? "";
  const number = Number(text);
  return text !== "" && Number.isFinite(number) && number >= min && number <= max ? number : undefined;
}

/** The settings of `cluster`. */
export function haSettings(cluster: Cluster): HaSettings {
  const annotations = cluster.metadata.annotations ?? {};
  const period = positive(annotations[ANNOTATION_PROBE_PERIOD], 0.1, 3600);
  const threshold = positive(annotations[ANNOTATION_FAILURE_THRESHOLD], 1, 100);
  const catchUp = positive(annotations[ANNOTATION_SWITCHOVER_TIMEOUT], 1, 3600);
  const lease = positive(annotations[ANNOTATION_LEASE], 1, 60);
  return {
    ...DEFAULT_HA_SETTINGS,
    ...(period === undefined ? {} : { probePeriodMs: Math.round(period * 1000) }),
    ...(threshold === undefined ? {} : { failureThreshold: Math.floor(threshold) }),
    ...(catchUp === undefined ? {} : { catchUpTimeoutMs: Math.round(catchUp * 1000) }),
    ...(lease === undefined ? {} : { leaseDurationMs: Math.round(lease * 1000) }),
    automaticFailover: annotations[ANNOTATION_FAILOVER]?.trim().toLowerCase() !== "false",
  };
}
