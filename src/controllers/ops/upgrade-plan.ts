/**
 * Upgrade, the pure half (ADR 0045): the pre-checks of a change of `serviceVersion` and the progress of its rolling
 * restart. A version must be installed (on the control plane's host and on every node running the component); within a
 * major version the instances restart one at a time on the new binaries; a major-version downgrade is refused (data
 * files are not readable by an older major version) and a major upgrade, which needs the engine's own data
 * conversion, is not supported yet.
 */
import { instanceNeedsRestart, type Cluster, type Instance, type OpsRequest, type ProgressDetail } from "../../api/index.ts";
import { compareVersions, type EngineVersion } from "../../engines/index.ts";
import type { OpsProgress } from "./progress.ts";
import { instancesProgress } from "./rollout-progress.ts";

/** What the pre-checks of one component look at. */
export interface UpgradeFacts {
  component: string;
  engine: string;
  requested: string;
  /** The version its instances run now. */
  current: EngineVersion;
  /** The installed version the request names, when one is. */
  target: EngineVersion | undefined;
  /** Every version of the engine installed on this host. */
  installed: readonly EngineVersion[];
  /** Nodes running the component's instances that do not have `target` installed. */
  nodesWithout: readonly string[];
}

/** Why the component cannot be upgraded as asked, or undefined when it can (a rolling restart on the new binaries). */
export function upgradeProblem(facts: UpgradeFacts): string | undefined {
  const { component, engine, requested, current, target } = facts;
  const have = facts.installed.map((v) => v.version).join(", ") || "none";
  const requestedMajor = requested.split(".")[0] ?? requested;
  const downgrade = compareVersions(requestedMajor, current.major) < 0;
  const refusal = `a downgrade from ${engine} ${current.version} to major version ${requestedMajor} is refused: data files are not readable by an older major version`;
  if (target === undefined) {
    return `component ${component}: serviceVersion ${requested} of ${engine} is not installed on this host (installed: ${have}); install it first (docs/operations.md)${downgrade ? `, though ${refusal}` : ""}`;
  }
  if (downgrade) return `component ${component}: ${refusal}`;
  if (target.major !== current.major) {
    return `component ${component}: a major-version upgrade of ${engine} (${current.version} to ${target.version}) is not supported yet: it needs the engine's own data conversion (docs/operations.md)`;
  }
  if (facts.nodesWithout.length > 0) return `component ${component}: ${engine} ${target.version} is not installed on node ${facts.nodesWithout.join(", ")}; install it there first`;
  return undefined;
}

function upgradeDetail(instance: Instance, version: string): ProgressDetail {
  const base = { group: instance.spec.componentName, objectKey: `Instance/${instance.metadata.name}` };
  if (instance.spec.version !== version) return { ...base, status: "Pending", message: "waiting for its turn in the rolling restart" };
  if (instance.status?.ready === true && !instanceNeedsRestart(instance)) return { ...base, status: "Succeed", message: `running ${version}` };
  return { ...base, status: "Processing", message: `restarting on ${version} (${instance.status?.phase ?? "Pending"})` };
}

/** Progress over the instances of the upgraded components (`targets`: component → full version). */
export function upgradeProgress(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[], targets: ReadonlyMap<string, string>): OpsProgress {
  return instancesProgress(ops, cluster, instances, { components: [...targets.keys()], detail: (i) => upgradeDetail(i, targets.get(i.spec.componentName) ?? "") });
}
