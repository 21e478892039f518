/**
 * The node agent's endpoints, kube-proxy's part of a Kubernetes Service: on every node, elected or not, each
 * cluster's recorded endpoints listen on the node's advertised address and forward each new connection to where the
 * ha controller recorded that the endpoint leads (`status.endpoints[].addresses`, on any node), holding new
 * connections while it says so. A leader change, or no leader at all, leaves them serving the last record (ADR 0025).
 */
import type { Cluster } from "../api/index.ts";
import { errorMessage, InputError } from "../errors/index.ts";
import type { EndpointRegistry, TlsStart } from "../runtime/index.ts";
import type { Store } from "../store/index.ts";
import type { Logger } from "../util/index.ts";
import { splitKey, type EventRecorder, type ReconcileResult, type Reconciler } from "../controllers/runtime/index.ts";
import { servedEndpoints, type NodeEndpointAddresses, type ServedEndpoint } from "./served-endpoints.ts";

/** How soon an endpoint that could not listen (its port taken) is tried again. */
const RETRY_MS = 5000;

/** What the endpoint reconciler works with. */
export interface EndpointReconcilerOptions {
  store: Store;
  /** This node's listeners. */
  registry: EndpointRegistry;
  /** The addresses this node's endpoints listen on: its advertised one, and its external one for exposed endpoints. */
  addresses: NodeEndpointAddresses;
  /** How clients of a component's engine start TLS (for an exposed endpoint); undefined: it cannot be exposed. */
  tlsStartOf: (cluster: Cluster, component: string) => TlsStart | undefined;
  nodeName: string;
  events: EventRecorder;
  logger: Logger;
}

/** Keyed by cluster: opens, routes and closes that cluster's endpoints on this node. */
export class EndpointReconciler implements Reconciler {
  readonly #o: EndpointReconcilerOptions;
  /** Endpoint keys open per cluster key. */
  readonly #open = new Map<string, Set<string>>();
  /** Per cluster key, the failure last reported per endpoint key, so a port that stays taken is reported once. */
  readonly #failed = new Map<string, Map<string, string>>();

  constructor(options: EndpointReconcilerOptions) {
    this.#o = options;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { namespace = "default", name } = splitKey(key);
    const cluster = await this.#o.store.get<Cluster>({ kind: "Cluster", namespace, name });
    const opened = new Set<string>();
    const reported = this.#failed.get(key);
    const failures = new Map<string, string>();
    for (const served of servedEndpoints(cluster, this.#o.addresses)) {
      const failure = cluster === undefined ? undefined : await this.#serve(cluster, served, reported?.get(served.key));
      if (failure === undefined) opened.add(served.key);
      else failures.set(served.key, failure);
    }
    await this.#closeOthers(key, opened);
    if (failures.size === 0) this.#failed.delete(key);
    else this.#failed.set(key, failures);
    return failures.size > 0 ? { requeueAfterMs: RETRY_MS } : undefined;
  }

  /** Listen (once) and route one endpoint; why it cannot listen (reported unless it is `reported` already), or undefined. */
  async #serve(cluster: Cluster, served: ServedEndpoint, reported: string | undefined): Promise<string | undefined> {
    try {
      const tlsOnly = served.tlsOnly ? this.#tlsStart(cluster, served) : undefined;
      await this.#o.registry.ensure({ name: served.key, host: served.host, port: served.endpoint.port, holdTimeoutMs: served.holdTimeoutMs, tlsOnly });
      if (this.#o.registry.route(served.key, served.route)) this.#logRoute(served);
      return undefined;
    } catch (error) {
      const message = `${served.endpoint.name} on node ${this.#o.nodeName}: ${errorMessage(error)}`;
      if (reported !== message) await this.#o.events.record(cluster, "Warning", "EndpointUnavailable", message);
      return message;
    }
  }

  /** How the endpoint's clients start TLS; an engine that does not say cannot have its endpoints exposed. */
  #tlsStart(cluster: Cluster, served: ServedEndpoint): TlsStart {
    const start = this.#o.tlsStartOf(cluster, served.endpoint.component);
    if (start === undefined) throw new InputError(`the engine of component ${served.endpoint.component} cannot tell a TLS connection from plaintext, so its endpoints cannot be exposed`);
    return start;
  }

  #logRoute(served: ServedEndpoint): void {
    const { endpoint, route } = served;
    const to = route.targets.map((t) => `${t.host}:${t.port}`);
    this.#o.logger.info({ endpoint: served.key, address: `${served.host}:${endpoint.port}`, targets: endpoint.targets ?? [], to, hold: route.hold }, "endpoint routed");
  }

  async #closeOthers(clusterKey: string, keep: ReadonlySet<string>): Promise<void> {
    for (const key of this.#open.get(clusterKey) ?? []) {
      if (keep.has(key)) continue;
      await this.#o.registry.remove(key);
    }
    if (keep.size === 0) this.#open.delete(clusterKey);
    else this.#open.set(clusterKey, new Set(keep));
  }
}
