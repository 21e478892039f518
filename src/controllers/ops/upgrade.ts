/**
 * Upgrade (ADR 0045): each listed component is to run the `serviceVersion` given. The pre-checks (upgrade-plan.ts) ask
 * the engine catalog which versions are installed here and each node of the component's instances what its heartbeat
 * reported; once they pass, the component's serviceVersion changes and the cluster controller rolls the new version out
 * one instance at a time (replicas, a switchover, the former primary), as for any restart.
 */
import { nodeHasEngine, type Cluster, type Instance, type Node, type OpsRequest } from "../../api/index.ts";
import { clusterInstances, type OpsHandler, type OpsServices, type OpsStep } from "./handler.ts";
import type { OpsProgress } from "./progress.ts";
import { upgradeProblem, upgradeProgress, type UpgradeFacts } from "./upgrade-plan.ts";

export class Upgrade implements OpsHandler {
  readonly startsFrom = ["Running"] as const;
  readonly #services: OpsServices;

  constructor(services: OpsServices) {
    this.#services = services;
  }

  async begin(ops: OpsRequest, cluster: Cluster): Promise<OpsStep> {
    const entries = ops.spec.upgrade?.components ?? [];
    if (entries.length === 0) return { failure: "spec.upgrade.components lists no component" };
    const instances = await clusterInstances(this.#services.store, cluster);
    for (const entry of entries) {
      const facts = await this.#facts(cluster, instances, entry.componentName, entry.serviceVersion);
      if (typeof facts === "string") return { failure: facts };
      const problem = upgradeProblem(facts);
      if (problem !== undefined) return { failure: problem };
    }
    const previous = Object.fromEntries(entries.map((e) => [e.componentName, versionRecord(cluster, e.componentName)]));
    const live = ops.status?.lastConfiguration !== undefined ? ops : await this.#services.store.updateStatus<OpsRequest>({ ...ops, status: { ...ops.status, lastConfiguration: { components: previous } } });
    const wanted = new Map(entries.map((e) => [e.componentName, e.serviceVersion ?? ""]));
    const componentSpecs = cluster.spec.componentSpecs.map((c) => (wanted.has(c.name) ? { ...c, serviceVersion: wanted.get(c.name) ?? "" } : c));
    const updated = await this.#services.store.update<Cluster>({ ...cluster, spec: { ...cluster.spec, componentSpecs } });
    return { ops: live, cluster: updated };
  }

  async follow(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[]): Promise<OpsProgress> {
    const targets = new Map<string, string>();
    for (const entry of ops.spec.upgrade?.components ?? []) {
      const engine = instances.find((i) => i.spec.componentName === entry.componentName)?.spec.engine ?? "";
      const version = this.#services.engines.find(engine)?.matchVersion(entry.serviceVersion, await this.#services.engines.versions(engine));
      if (version === undefined) return { done: 0, total: 0, finished: false, failure: `${engine} ${entry.serviceVersion ?? ""} of component ${entry.componentName} is no longer installed` };
      targets.set(entry.componentName, version.version);
    }
    return upgradeProgress(ops, cluster, instances, targets);
  }

  /** What the pre-checks of one component look at, or why there is nothing to check. */
  async #facts(cluster: Cluster, instances: readonly Instance[], component: string, requested: string | undefined): Promise<UpgradeFacts | string> {
    if (!cluster.spec.componentSpecs.some((c) => c.name === component)) return `component ${component} is not in cluster ${cluster.metadata.name}`;
    if (requested === undefined) return `component ${component}: spec.upgrade.components[].serviceVersion is required`;
    const members = instances.filter((i) => i.spec.componentName === component);
    const first = members[0];
    const engine = first === undefined ? undefined : this.#services.engines.find(first.spec.engine);
    if (first === undefined || engine === undefined) return `component ${component} has no instances to upgrade yet`;
    const installed = await this.#services.engines.versions(engine.name);
    const current = engine.matchVersion(first.spec.version, installed) ?? { version: first.spec.version, major: first.spec.version.split(".")[0] ?? "", binDir: "" };
    const target = engine.matchVersion(requested, installed);
    const nodesWithout = target === undefined ? [] : await this.#nodesWithout(members, engine.name, target.version);
    return { component, engine: engine.name, requested, current, target, installed, nodesWithout };
  }

  /** Nodes of `members` whose last heartbeat does not list `engine` `version` (a home without Node objects has none). */
  async #nodesWithout(members: readonly Instance[], engine: string, version: string): Promise<string[]> {
    const names = [...new Set(members.flatMap((i) => (i.spec.nodeName === undefined ? [] : [i.spec.nodeName])))];
    const nodes = await Promise.all(names.map((name) => this.#services.store.get<Node>({ kind: "Node", name })));
    return nodes.filter((n): n is Node => n !== undefined && n.status?.engines !== undefined && !nodeHasEngine(n, engine, version)).map((n) => n.metadata.name);
  }
}

function versionRecord(cluster: Cluster, component: string): { serviceVersion?: string } {
  const version = cluster.spec.componentSpecs.find((c) => c.name === component)?.serviceVersion;
  return version === undefined ? {} : { serviceVersion: version };
}
