/** Prometheus metrics of the control plane (prom-client), and what the database exporters are scraped as. */
export { ControlPlaneMetrics, type ControlPlaneMetricsOptions, type ObservableAuditLog } from "./control-plane-metrics.ts";
export type { KeyMaterial } from "./key-ages.ts";
export type { RequestSample } from "./request-metrics.ts";
export type { ObservableController } from "./controller-metrics.ts";
