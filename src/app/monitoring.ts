/** The server's metrics and what it serves to Prometheus: targets and rule files, built from the store. */
import type { Instance, Node, PodMonitor, PrometheusRule, ServiceMonitor } from "../api/index.ts";
import type { HomePaths } from "../config/index.ts";
import { CONTROLLERS_LEASE } from "../controlplane/index.ts";
import { ControlPlaneMetrics } from "../metrics/index.ts";
import { ruleFile, scrapeTargets } from "../monitoring/index.ts";
import type { AuditLog, ServingMaterial } from "../security/index.ts";
import type { MonitoringApi, RequestObserver } from "../server/index.ts";
import type { Controller } from "../controllers/runtime/index.ts";
import type { Store } from "../store/index.ts";
import type { Logger } from "../util/index.ts";

/** The metrics of a server that keeps them; undefined with --disable-metrics. */
export function createMetrics(enabled: boolean, store: Store, logger: Logger): ControlPlaneMetrics | undefined {
  return enabled ? new ControlPlaneMetrics({ store, logger }) : undefined;
}

/** Start a controller, its queue and reconciles reported to the metrics (when kept). */
export async function startObserved(controller: Controller, metrics: ControlPlaneMetrics | undefined): Promise<void> {
  metrics?.observeController(controller);
  await controller.start();
}

export function stopMetrics(metrics: ControlPlaneMetrics | undefined): void {
  metrics?.stop();
}

/** What the metrics observe once the audit log and the serving material are open; then their watches start. */
export async function observeSecurity(metrics: ControlPlaneMetrics | undefined, parts: { audit: AuditLog; tls: ServingMaterial; keyring: { listKeys(): readonly { id: string; createdAt: string }[] }; paths: HomePaths }): Promise<void> {
  if (metrics === undefined) return;
  metrics.observeAudit(parts.audit);
  metrics.observeKeys({
    servingCertificate: parts.tls.cert,
    caCertificate: parts.tls.ca,
    keyringKeys: () => parts.keyring.listKeys(),
    auditSigningKeyFile: parts.paths.auditSigningKey,
  });
  await metrics.start();
}

/** `/metrics`, `/monitoring/targets` and `/monitoring/rules`, and the request counter, as API server options. */
export function monitoringApi(store: Store, metrics: ControlPlaneMetrics | undefined): { monitoring: MonitoringApi; requestMetrics?: RequestObserver } {
  return metrics === undefined ? { monitoring: prometheusApi(store, undefined) } : { monitoring: prometheusApi(store, metrics), requestMetrics: metrics };
}

function prometheusApi(store: Store, metrics: ControlPlaneMetrics | undefined): MonitoringApi {
  return {
    ...(metrics === undefined ? {} : { metrics: () => metrics.exposition() }),
    async targets() {
      const [nodes, instances, podMonitors, serviceMonitors, lease] = await Promise.all([
        store.list<Node>("Node"),
        store.list<Instance>("Instance"),
        store.list<PodMonitor>("PodMonitor"),
        store.list<ServiceMonitor>("ServiceMonitor"),
        store.leases.read(CONTROLLERS_LEASE),
      ]);
      return scrapeTargets({ nodes: nodes.items, instances: instances.items, podMonitors: podMonitors.items, serviceMonitors: serviceMonitors.items, leader: lease?.holder });
    },
    async rules() {
      return ruleFile((await store.list<PrometheusRule>("PrometheusRule")).items);
    },
  };
}
