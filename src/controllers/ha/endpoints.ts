/**
 * A cluster's stable endpoints, the controller's half (a Service and its Endpoints): per replicated component a
 * read-write one (the primary) and a read-only one (ready replicas). Ports are allocated once and recorded in
 * `status.endpoints` together with where each endpoint leads now (`targets`, their `addresses`, `hold`), so they
 * survive role changes and leader changes. Nothing here listens: every node's agent serves what is recorded on its
 * own address (src/agent/endpoints.ts, ADR 0025).
 */
import { endpointAddress, instanceHost, type Cluster, type ClusterEndpoint, type Instance } from "../../api/index.ts";
import type { Store } from "../../store/index.ts";
import type { EventRecorder } from "../runtime/index.ts";
import { clusterRef } from "./members.ts";
import { patchStatus } from "./patch.ts";
import type { ComponentRoutes } from "./plan.ts";

/** Hands out a free port, given the ports already recorded. */
export type EndpointPortAllocator = (inUse: ReadonlySet<number>) => Promise<number>;

/** Where one endpoint leads: the instances new connections go to, and whether they wait when there is none. */
export interface EndpointRouting {
  targets: readonly Instance[];
  hold: boolean;
}

/** Nothing to serve: connections are refused at once (a stopped cluster). */
const NOWHERE: EndpointRouting = { targets: [], hold: false };

/**
 * The endpoints a component should have (ports still to be allocated are 0), not routed yet: its read-write and
 * read-only ones, then one per ClusterService of `spec.services` selecting it (`<cluster>-<service>`, exposed).
 */
export function wantedEndpoints(cluster: Cluster, component: string): ClusterEndpoint[] {
  const base = `${cluster.metadata.name}-${component}`;
  const exposed = (cluster.spec.services ?? []).filter((s) => s.componentSelector === component).map((s): ClusterEndpoint => ({
    name: `${cluster.metadata.name}-${s.name}`,
    component,
    access: s.roleSelector === "secondary" ? "ReadOnly" : "ReadWrite",
    roleSelector: s.roleSelector ?? "primary",
    port: 0,
    exposed: true,
  }));
  return [
    { name: base, component, access: "ReadWrite", roleSelector: "primary", port: 0 },
    { name: `${base}-ro`, component, access: "ReadOnly", roleSelector: "secondary", port: 0 },
    ...exposed,
  ];
}

/** The names of the component's endpoints of `access` (the built-in one first, then the exposed ones). */
function endpointNames(cluster: Cluster, component: string, access: ClusterEndpoint["access"]): string[] {
  return wantedEndpoints(cluster, component).filter((e) => e.access === access).map((e) => e.name);
}

/** The endpoints of `components` with the ports and routes already recorded kept, and the others' ports marked 0 (pure). */
export function endpointsWithRecordedPorts(cluster: Cluster, components: readonly string[]): ClusterEndpoint[] {
  const recorded = new Map((cluster.status?.endpoints ?? []).map((e) => [e.name, e]));
  return components.flatMap((c) => wantedEndpoints(cluster, c)).map((e) => {
    const found = recorded.get(e.name);
    return found === undefined ? e : { ...e, port: found.port, ...routeOf(found) };
  });
}

/** The recorded endpoints with the routes of those `routing` names replaced (pure). */
export function routedEndpoints(endpoints: readonly ClusterEndpoint[], routing: ReadonlyMap<string, EndpointRouting>): ClusterEndpoint[] {
  return endpoints.map((endpoint) => {
    const route = routing.get(endpoint.name);
    if (route === undefined) return endpoint;
    const { targets: _targets, addresses: _addresses, hold: _hold, ...rest } = endpoint;
    const addresses = route.targets.map((i) => endpointAddress(instanceHost(i), i.spec.port));
    return { ...rest, targets: route.targets.map((i) => i.metadata.name), addresses, ...(route.hold ? { hold: true } : {}) };
  });
}

function routeOf(endpoint: ClusterEndpoint): Pick<ClusterEndpoint, "targets" | "addresses" | "hold"> {
  const { targets, addresses, hold } = endpoint;
  return { ...(targets === undefined ? {} : { targets }), ...(addresses === undefined ? {} : { addresses }), ...(hold === undefined ? {} : { hold }) };
}

export class ClusterEndpoints {
  readonly #store: Store;
  readonly #events: EventRecorder;
  readonly #allocate: EndpointPortAllocator;
  /** Allocation happens one cluster at a time, so two clusters never record the same port. */
  #lock: Promise<unknown> = Promise.resolve();

  constructor(options: { store: Store; events: EventRecorder; allocate: EndpointPortAllocator }) {
    this.#store = options.store;
    this.#events = options.events;
    this.#allocate = options.allocate;
  }

  /** Record ports for the endpoints of `components` (allocating missing ones); returns the cluster as stored. */
  async ensure(cluster: Cluster, components: readonly string[]): Promise<Cluster> {
    const wanted = endpointsWithRecordedPorts(cluster, components);
    const names = (endpoints: readonly ClusterEndpoint[]): string => endpoints.map((e) => e.name).join("\0");
    if (wanted.some((e) => e.port === 0) || names(cluster.status?.endpoints ?? []) !== names(wanted)) return this.#record(cluster, components);
    return cluster;
  }

  /** Record where new connections go, as `routes` says. */
  async route(cluster: Cluster, component: string, routes: ComponentRoutes): Promise<void> {
    const instances = (route: ComponentRoutes["readWrite"]): EndpointRouting => ({ targets: route.targets.map((m) => m.instance), hold: route.hold });
    await this.#apply(cluster, new Map([
      ...endpointNames(cluster, component, "ReadWrite").map((name) => [name, instances(routes.readWrite)] as const),
      ...endpointNames(cluster, component, "ReadOnly").map((name) => [name, instances(routes.readOnly)] as const),
    ]));
  }

  /** Send new read-write connections to `primary` at once (it was just promoted). */
  async routeReadWrite(cluster: Cluster, component: string, primary: Instance): Promise<void> {
    await this.#apply(cluster, new Map(endpointNames(cluster, component, "ReadWrite").map((name) => [name, { targets: [primary], hold: false }])));
  }

  /** Hold new connections to the read-write endpoints and close those they forward (a role change drains them). */
  async hold(cluster: Cluster, component: string): Promise<void> {
    await this.#apply(cluster, new Map(endpointNames(cluster, component, "ReadWrite").map((name) => [name, { targets: [], hold: true }])));
  }

  /** Route every recorded endpoint of the cluster nowhere (it has no replicated component any more); the ports stay recorded. */
  async unroute(cluster: Cluster): Promise<void> {
    await this.#apply(cluster, new Map((cluster.status?.endpoints ?? []).map((e) => [e.name, NOWHERE])));
  }

  /** Write the routes that differ from what is recorded (nothing when none does). */
  async #apply(cluster: Cluster, routing: ReadonlyMap<string, EndpointRouting>): Promise<void> {
    const same = (current: Cluster): boolean => {
      const recorded = current.status?.endpoints ?? [];
      return JSON.stringify(routedEndpoints(recorded, routing)) === JSON.stringify(recorded);
    };
    if (same(cluster)) return;
    await patchStatus<Cluster>(this.#store, clusterRef(cluster), (current) =>
      same(current) ? undefined : { ...current, status: { ...current.status, endpoints: routedEndpoints(current.status?.endpoints ?? [], routing) } },
    );
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
        allocated.push(`${endpoint.name} on port ${endpoint.port}`);
      }
      const updated = await patchStatus<Cluster>(this.#store, clusterRef(cluster), (current) => {
        // What is recorded meanwhile wins over what this pass allocated.
        const endpoints = endpointsWithRecordedPorts(current, components).map((e) => (e.port !== 0 ? e : (planned.find((p) => p.name === e.name) ?? e)));
        if (JSON.stringify(endpoints) === JSON.stringify(current.status?.endpoints ?? [])) return undefined;
        return { ...current, status: { ...current.status, endpoints } };
      });
      if (updated !== undefined && allocated.length > 0) await this.#events.record(updated, "Normal", "EndpointsAllocated", `stable endpoints, served on every node's address: ${allocated.join(", ")}`);
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
