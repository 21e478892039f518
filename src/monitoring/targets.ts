/**
 * The scrape targets Holdfast serves at `/monitoring/targets`, in the format of Prometheus' http_sd_configs (pure):
 * every node's API server, and the exporter of every instance whose exporter runs. PodMonitors and ServiceMonitors
 * select what is scraped in the namespaces they cover (their namespaceSelector; their own namespace by default):
 * there, only the instances a monitor selects are listed, labelled and scraped as the monitor says. In a namespace no
 * monitor covers, every exporter is listed (monitoring every part is the default).
 */
import { EXPORTER_PORT_NAME, nodeAddress, type Instance, type MonitorEndpoint, type Node, type PodMonitor, type ServiceMonitor } from "../api/index.ts";
import { selectableLabels, selectorMatches } from "../dataprotection/index.ts";

/** One entry of an http_sd_configs answer. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** What the targets are worked out from. */
export interface TargetInput {
  nodes: readonly Node[];
  instances: readonly Instance[];
  podMonitors: readonly PodMonitor[];
  serviceMonitors: readonly ServiceMonitor[];
  /** The node holding the controllers' lease (its API server is labelled role=leader). */
  leader?: string | undefined;
}

/** The label telling the two kinds of target apart: scrape configurations keep one kind each (it is dropped after relabelling). */
export const TARGET_KIND_LABEL = "__meta_holdfast_target";

/** Every target group. */
export function scrapeTargets(input: TargetInput): TargetGroup[] {
  return [...apiServerTargets(input.nodes, input.leader), ...exporterTargets(input)];
}

function apiServerTargets(nodes: readonly Node[], leader: string | undefined): TargetGroup[] {
  return nodes.flatMap((node) => {
    const url = nodeAddress(node, "APIServer");
    if (url === undefined) return [];
    const parsed = new URL(url);
    const role = node.metadata.name === leader ? "leader" : "follower";
    const labels = { [TARGET_KIND_LABEL]: "apiserver", namespace: "", cluster: "", component: "apiserver", instance: node.metadata.name, role, job: "holdfast" };
    return [{ targets: [parsed.host], labels }];
  });
}

interface Monitor {
  name: string;
  namespace: string;
  namespaces: "any" | readonly string[];
  selector: PodMonitor["spec"]["selector"];
  endpoints: readonly MonitorEndpoint[];
  jobLabel: string | undefined;
  targetLabels: readonly string[];
}

function monitorsOf(input: TargetInput): Monitor[] {
  const monitor = (object: PodMonitor | ServiceMonitor, endpoints: readonly MonitorEndpoint[], targetLabels: readonly string[]): Monitor => {
    const namespace = object.metadata.namespace ?? "default";
    const selector = object.spec.namespaceSelector;
    const namespaces = selector?.any === true ? "any" : (selector?.matchNames ?? [namespace]);
    return { name: object.metadata.name, namespace, namespaces, selector: object.spec.selector, endpoints, jobLabel: object.spec.jobLabel, targetLabels };
  };
  return [
    ...input.podMonitors.map((m) => monitor(m, m.spec.podMetricsEndpoints, m.spec.podTargetLabels ?? [])),
    ...input.serviceMonitors.map((m) => monitor(m, m.spec.endpoints, [...(m.spec.targetLabels ?? []), ...(m.spec.podTargetLabels ?? [])])),
  ];
}

function covers(monitor: Monitor, namespace: string): boolean {
  return monitor.namespaces === "any" || monitor.namespaces.includes(namespace);
}

function exporterTargets(input: TargetInput): TargetGroup[] {
  const monitors = monitorsOf(input);
  return input.instances.flatMap((instance) => {
    const port = instance.status?.exporter?.port;
    if (port === undefined || instance.status?.exporter?.pid === undefined || instance.metadata.deletionTimestamp !== undefined) return [];
    const namespace = instance.metadata.namespace ?? "default";
    const covering = monitors.filter((monitor) => covers(monitor, namespace));
    const address = `${hostOf(instance)}:${port}`;
    if (covering.length === 0) return [{ targets: [address], labels: { ...baseLabels(instance), job: "holdfast-exporters" } }];
    return covering.flatMap((monitor) => monitorTargets(monitor, instance, address));
  });
}

function monitorTargets(monitor: Monitor, instance: Instance, address: string): TargetGroup[] {
  const labels = selectableLabels(instance);
  if (!selectorMatches(monitor.selector, labels)) return [];
  const job = (monitor.jobLabel === undefined ? undefined : labels[monitor.jobLabel]) ?? `${monitor.namespace}/${monitor.name}`;
  const copied = Object.fromEntries(monitor.targetLabels.flatMap((key) => (labels[key] === undefined ? [] : [[sanitizeLabelName(key), labels[key]]])));
  // Ports other than the exporter's (KubeBlocks' examples also name Patroni's) have nothing behind them here.
  return monitor.endpoints
    .filter((endpoint) => (endpoint.port ?? EXPORTER_PORT_NAME) === EXPORTER_PORT_NAME)
    .map((endpoint) => ({ targets: [address], labels: { ...copied, ...baseLabels(instance), ...endpointLabels(endpoint), job, monitor: `${monitor.namespace}/${monitor.name}` } }));
}

function endpointLabels(endpoint: MonitorEndpoint): Record<string, string> {
  return {
    ...(endpoint.path === undefined ? {} : { __metrics_path__: endpoint.path }),
    ...(endpoint.interval === undefined ? {} : { __scrape_interval__: endpoint.interval }),
    ...(endpoint.scrapeTimeout === undefined ? {} : { __scrape_timeout__: endpoint.scrapeTimeout }),
  };
}

/** The labels every exporter target carries (`pod` too: KubeBlocks' alert rules describe instances by it). */
function baseLabels(instance: Instance): Record<string, string> {
  const role = instance.status?.replicationState?.role ?? instance.status?.role ?? instance.spec.role ?? "";
  return {
    [TARGET_KIND_LABEL]: "exporter",
    namespace: instance.metadata.namespace ?? "default",
    cluster: instance.spec.clusterName,
    component: instance.spec.componentName,
    instance: instance.metadata.name,
    pod: instance.metadata.name,
    role,
    engine: instance.spec.engine,
  };
}

function hostOf(instance: Instance): string {
  const host = instance.status?.host ?? "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

/** A Kubernetes label key as a Prometheus label name, as the Prometheus Operator writes it (`app.kubernetes.io/x` → `app_kubernetes_io_x`). */
export function sanitizeLabelName(key: string): string {
  const name = key.replace(/[^a-zA-Z0-9_]/g, "_");
  return /^[0-9]/.test(name) ? `_${name}` : name;
}
