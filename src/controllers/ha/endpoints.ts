/**
 * A cluster's stable endpoints: per replicated component a read-write one (the primary) and a read-only one
 * (ready replicas). Ports are allocated once and recorded in `status.endpoints`, so they survive role changes
 * and control-plane restarts; after a restart the listeners are opened again on the recorded ports.
 */
import type { Cluster, ClusterEndpoint, Instance } from "../../api/index.ts";
import { errorMessage } from "../../errors/index.ts";
import type { EndpointRegistry } from "../../runtime/index.ts";
import type { Store } from "../../store/index.ts";
import type { EventRecorder } from "../runtime/index.ts";
import { patchStatus } from "./patch.ts";
import type { ComponentRoutes } from "./plan.ts";

/** Hands out a free port, given the ports already recorded. */
export type EndpointPortAllocator = (inUse: ReadonlySet<number>) => Promise<number>;

/** Loopback only: the endpoints are as private as the instances behind them. */
const HOST = "127.0.0.1";
/** New connections wait this long for a primary (a failover) before they are closed. */
const READ_WRITE_HOLD_MS = 30_000;
const READ_ONLY_HOLD_MS = 10_000;

/** The endpoints a component should have (ports still to be allocated are 0). */
export function wantedEndpoints(cluster: Cluster, component: string): ClusterEndpoint[] {
  const base = `${cluster.metadata.name}-${component}`;
  return [
    { name: base, component, access: "ReadWrite", roleSelector: "primary", host: HOST, port: 0 },
    { name: `${base}-ro`, component, access: "ReadOnly", roleSelector: "secondary", host: HOST, port: 0 },
  ];
}

/** The endpoints of `components` with the ports already recorded kept, and the others marked 0 (pure). */
export function endpointsWithRecordedPorts(cluster: Cluster, components: readonly string[]): ClusterEndpoint[] {
  const recorded = new Map((cluster.status?.endpoints ?? []).map((e) => [e.name, e]));
  return components.flatMap((c) => wantedEndpoints(cluster, c)).map((e) => ({ ...e, port: recorded.get(e.name)?.port ?? 0, ...(recorded.get(e.name)?.targets === undefined ? {} : { targets: recorded.get(e.name)?.targets ?? [] }) }));
}

export class ClusterEndpoints {
  readonly #registry: EndpointRegistry;
  readonly #store: Store;
  readonly #events: EventRecorder;
  readonly #allocate: EndpointPortAllocator;
  /** Allocation happens one cluster at a time, so two clusters never record the same port. */
  #lock: Promise<unknown> = Promise.resolve();
  /** Endpoint names (registry keys) opened per cluster key. */
  readonly #open = new Map<string, Set<string>>();

  constructor(options: { registry: EndpointRegistry; store: Store; events: EventRecorder; allocate: EndpointPortAllocator }) {
    this.#registry = options.registry;
    this.#store = options.store;
    this.#events = options.events;
    this.#allocate = options.allocate;
  }

  /** Record ports for the endpoints of `components` (allocating missing ones) and listen on them; returns the cluster as stored. */
  async ensure(cluster: Cluster, components: readonly string[]): Promise<Cluster> {
    let live = cluster;
    const wanted = endpointsWithRecordedPorts(cluster, components);
    if (wanted.some((e) => e.port === 0) || (cluster.status?.endpoints ?? []).length !== wanted.length) live = await this.#record(cluster, components);
    const opened = new Set<string>();
    for (const endpoint of live.status?.endpoints ?? []) {
      const key = registryKey(live, endpoint.name);
      try {
        await this.#registry.ensure({ name: key, host: endpoint.host, port: endpoint.port, holdTimeoutMs: endpoint.access === "ReadWrite" ? READ_WRITE_HOLD_MS : READ_ONLY_HOLD_MS });
        opened.add(key);
      } catch (error) {
        await this.#events.record(live, "Warning", "EndpointUnavailable", `${endpoint.name}: ${errorMessage(error)}`);
      }
    }
    await this.#closeOthers(clusterKey(live), opened);
    return live;
  }

  /** Send new connections where `routes` says. */
  route(cluster: Cluster, component: string, routes: ComponentRoutes): void {
    const [readWrite, readOnly] = wantedEndpoints(cluster, component);
    if (readWrite) this.#registry.route(registryKey(cluster, readWrite.name), { targets: routes.readWrite.targets.map((m) => m.instance.spec.port), hold: routes.readWrite.hold });
    if (readOnly) this.#registry.route(registryKey(cluster, readOnly.name), { targets: routes.readOnly.targets.map((m) => m.instance.spec.port), hold: routes.readOnly.hold });
  }

  /** Send new read-write connections to `port` at once (the primary was just promoted). */
  routeReadWrite(cluster: Cluster, component: string, port: number): void {
    const readWrite = wantedEndpoints(cluster, component)[0];
    if (readWrite) this.#registry.route(registryKey(cluster, readWrite.name), { targets: [port] });
  }

  /** Hold new connections to the read-write endpoint (a switchover drains it). */
  hold(cluster: Cluster, component: string): void {
    const readWrite = wantedEndpoints(cluster, component)[0];
    if (readWrite) this.#registry.route(registryKey(cluster, readWrite.name), { targets: [], hold: true });
  }

  /** Report where each endpoint sends connections, when that changed. */
  async recordTargets(cluster: Cluster, targets: ReadonlyMap<string, string[]>): Promise<void> {
    const changed = (cluster.status?.endpoints ?? []).some((e) => targets.has(e.name) && JSON.stringify(e.targets ?? []) !== JSON.stringify(targets.get(e.name)));
    if (!changed) return;
    await patchStatus<Cluster>(this.#store, refOf(cluster), (current) => {
      const endpoints = (current.status?.endpoints ?? []).map((e) => (targets.has(e.name) ? { ...e, targets: targets.get(e.name) ?? [] } : e));
      return { ...current, status: { ...current.status, endpoints } };
    });
  }

  /** Close every endpoint of the cluster `key` (deleted, or no longer replicated). */
  async remove(key: string): Promise<void> {
    await this.#closeOthers(key, new Set());
  }

  async #closeOthers(key: string, keep: ReadonlySet<string>): Promise<void> {
    const open = this.#open.get(key) ?? new Set<string>();
    for (const name of open) if (!keep.has(name)) await this.#registry.remove(name);
    if (keep.size === 0) this.#open.delete(key);
    else this.#open.set(key, new Set(keep));
  }

  async #record(cluster: Cluster, components: readonly string[]): Promise<Cluster> {
    const run = this.#lock.then(async () => {
      const inUse = await this.#portsInUse();
      const planned = endpointsWithRecordedPorts(cluster, components);
      const allocated: string[] = [];
      for (const endpoint of planned) {
        if (endpoint.port !== 0) continue;
        endpoint.port = await this.#allocate(inUse);
        inUse.add(endpoint.port);
        allocated.push(`${endpoint.name} on ${endpoint.host}:${endpoint.port}`);
      }
      const updated = await patchStatus<Cluster>(this.#store, refOf(cluster), (current) => {
        const recorded = new Map((current.status?.endpoints ?? []).map((e) => [e.name, e.port]));
        const endpoints = planned.map((e) => ({ ...e, port: recorded.get(e.name) ?? e.port }));
        if (JSON.stringify(endpoints) === JSON.stringify(current.status?.endpoints ?? [])) return undefined;
        return { ...current, status: { ...current.status, endpoints } };
      });
      if (updated !== undefined && allocated.length > 0) await this.#events.record(updated, "Normal", "EndpointsAllocated", `stable endpoints: ${allocated.join(", ")}`);
      return updated ?? cluster;
    });
    this.#lock = run.catch(() => undefined);
    return run;
  }

  /** Ports recorded by any cluster's endpoints, and every instance's port. */
  async #portsInUse(): Promise<Set<number>> {
    const clusters = await this.#store.list<Cluster>("Cluster");
    const instances = await this.#store.list<Instance>("Instance");
    return new Set([...clusters.items.flatMap((c) => (c.status?.endpoints ?? []).map((e) => e.port)), ...instances.items.map((i) => i.spec.port)].filter((p) => p !== 0));
  }
}

function clusterKey(cluster: Cluster): string {
  return `${cluster.metadata.namespace ?? "default"}/${cluster.metadata.name}`;
}

function registryKey(cluster: Cluster, endpoint: string): string {
  return `${cluster.metadata.namespace ?? "default"}/${endpoint}`;
}

function refOf(cluster: Cluster): { kind: string; namespace: string; name: string } {
  return { kind: "Cluster", namespace: cluster.metadata.namespace ?? "default", name: cluster.metadata.name };
}
