/**
 * Expose: open (Enable) or close (Disable) named endpoints of a component on the nodes' external addresses, TLS
 * required. The handler changes `Cluster.spec.services` only; the ha controller records the endpoints and every node
 * agent with an external address serves them (src/agent/endpoints.ts). The request itself is audited by the API.
 */
import { nodeAddress, type Cluster, type Node, type OpsRequest } from "../../api/index.ts";
import { componentEngine } from "../cluster/index.ts";
import type { OpsHandler, OpsServices, OpsStep } from "./handler.ts";
import { exposedServices, exposeProblem, exposeProgress } from "./expose-plan.ts";
import type { OpsProgress } from "./progress.ts";

export class Expose implements OpsHandler {
  readonly #services: OpsServices;

  constructor(services: OpsServices) {
    this.#services = services;
  }

  async begin(ops: OpsRequest, cluster: Cluster): Promise<OpsStep> {
    const entries = ops.spec.expose ?? [];
    const problem = exposeProblem(cluster, entries, { externalAddresses: await this.#externalAddresses(), exposable: (c) => this.#exposable(cluster, c) });
    if (problem !== undefined) return { failure: problem };
    const services = exposedServices(cluster, entries);
    if (JSON.stringify(services) === JSON.stringify(cluster.spec.services ?? [])) return { ops, cluster };
    const updated = await this.#services.store.update<Cluster>({ ...cluster, spec: { ...cluster.spec, services } });
    const what = entries.map((e) => `${e.switch === "Enable" ? "exposing" : "closing"} ${e.services.map((s) => s.name).join(", ")} of ${e.componentName}`).join("; ");
    await this.#services.events.record(updated, "Normal", "Expose", `${what} (OpsRequest ${ops.metadata.name}; TLS required on exposed endpoints)`);
    return { ops, cluster: updated };
  }

  async follow(ops: OpsRequest, cluster: Cluster): Promise<OpsProgress> {
    return exposeProgress(ops, cluster, await this.#externalAddresses());
  }

  /** The external addresses the nodes report, sorted. */
  async #externalAddresses(): Promise<string[]> {
    const nodes = (await this.#services.store.list<Node>("Node")).items;
    return nodes.flatMap((n) => nodeAddress(n, "ExternalIP") ?? []).sort();
  }

  #exposable(cluster: Cluster, component: string): boolean {
    return componentEngine(cluster, component, this.#services.engines)?.clientTlsStart !== undefined;
  }
}
