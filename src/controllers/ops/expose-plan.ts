/**
 * Expose, planned (pure): an Enable adds a ClusterService per service to `Cluster.spec.services` (`<component>-<name>`,
 * as KubeBlocks names it), a Disable removes it. The ha controller records each as an exposed endpoint of the cluster
 * (`<cluster>-<component>-<name>`, a port, routed to the role selected) and every node with an external address serves
 * it there, forwarding TLS connections only (ADR 0041, "Expose").
 */
import type { Cluster, ClusterEndpoint, ClusterService, ExposeSpec, OpsRequest, ProgressDetail } from "../../api/index.ts";
import type { OpsProgress } from "./progress.ts";

/** The ClusterService name an Expose gives a component's service. */
export function exposedServiceName(component: string, service: string): string {
  return `${component}-${service}`;
}

/** The endpoint name of that ClusterService (the Kubernetes Service KubeBlocks would create: `<cluster>-<service>`). */
export function exposedEndpointName(cluster: Cluster, component: string, service: string): string {
  return `${cluster.metadata.name}-${exposedServiceName(component, service)}`;
}

/** `spec.services` with the request's services added (Enable, replacing one of the same name) or removed (Disable). */
export function exposedServices(cluster: Cluster, entries: readonly ExposeSpec[]): ClusterService[] {
  let services = [...(cluster.spec.services ?? [])];
  for (const entry of entries) {
    const names = new Set(entry.services.map((s) => exposedServiceName(entry.componentName, s.name)));
    services = services.filter((s) => !names.has(s.name));
    if (entry.switch === "Disable") continue;
    for (const service of entry.services) {
      services.push({ name: exposedServiceName(entry.componentName, service.name), componentSelector: entry.componentName, roleSelector: service.roleSelector ?? "primary" });
    }
  }
  return services;
}

/** What the request needs of the world around it. */
export interface ExposeWorld {
  /** The nodes' external addresses (`ExternalIP`), where exposed endpoints listen. */
  externalAddresses: readonly string[];
  /** Can this component's endpoints be exposed (its engine tells TLS from plaintext)? */
  exposable(component: string): boolean;
}

/** Why the request cannot be carried out, naming the component; undefined when it can. */
export function exposeProblem(cluster: Cluster, entries: readonly ExposeSpec[], world: ExposeWorld): string | undefined {
  if (entries.length === 0) return "spec.expose lists no component";
  for (const entry of entries) {
    if (!cluster.spec.componentSpecs.some((c) => c.name === entry.componentName)) return `component ${entry.componentName} is not in cluster ${cluster.metadata.name}`;
    if (entry.switch === "Disable") continue;
    if (!world.exposable(entry.componentName)) return `component ${entry.componentName}: its engine cannot require TLS on an endpoint, so it cannot be exposed`;
  }
  if (entries.some((e) => e.switch === "Enable") && world.externalAddresses.length === 0) {
    return "no node has an external address: start the server of a node with --external-address IP (a non-loopback address of that machine that clients reach) and try again";
  }
  return undefined;
}

/** Where clients reach an exposed endpoint: each external address with its port. */
export function exposedAt(endpoint: ClusterEndpoint, externalAddresses: readonly string[]): string[] {
  return externalAddresses.map((a) => (a.includes(":") ? `[${a}]:${endpoint.port}` : `${a}:${endpoint.port}`));
}

/** One service's progress: an enabled one is done once recorded with its port (routed or not: a stopped cluster routes nowhere); a disabled one once gone. */
function serviceDetail(cluster: Cluster, entry: ExposeSpec, service: string, externalAddresses: readonly string[]): ProgressDetail {
  const name = exposedEndpointName(cluster, entry.componentName, service);
  const base = { group: entry.componentName, objectKey: `Endpoint/${name}` };
  const endpoint = (cluster.status?.endpoints ?? []).find((e) => e.name === name);
  if (entry.switch === "Disable") return endpoint === undefined ? { ...base, status: "Succeed", message: "closed" } : { ...base, status: "Processing", message: "closing" };
  if (endpoint?.exposed !== true) return { ...base, status: "Processing", message: "waiting for its port" };
  const routed = (endpoint.targets ?? []).length > 0 ? `to ${(endpoint.targets ?? []).join(", ")}` : `to no instance yet (no ${endpoint.roleSelector} is ready)`;
  return { ...base, status: "Succeed", message: `TLS required, on ${exposedAt(endpoint, externalAddresses).join(", ")}, ${routed}` };
}

/** How far an Expose has come, with where each enabled endpoint is reached (for the success message). */
export function exposeProgress(ops: OpsRequest, cluster: Cluster, externalAddresses: readonly string[]): OpsProgress {
  const entries = ops.spec.expose ?? [];
  const details = entries.flatMap((entry) => entry.services.map((s) => serviceDetail(cluster, entry, s.name, externalAddresses)));
  const done = details.filter((d) => d.status === "Succeed");
  const pending = details.find((d) => d.status !== "Succeed");
  return {
    done: done.length,
    total: details.length,
    finished: pending === undefined,
    details,
    ...(pending === undefined ? { outcome: done.map((d) => `${d.objectKey.slice("Endpoint/".length)} ${d.message ?? ""}`).join("; ") } : { waitingFor: `${pending.objectKey} (${pending.message ?? ""})` }),
  };
}
