/** Cluster and component phases and conditions, derived from the instances (pure). */
import { clusterSpecSchema, fieldNotes, instanceLiveConfigPending, instanceNeedsRestart, type Cluster, type ClusterInstanceStatus, type ClusterPhase, type ClusterStatus, type ComponentStatus, type Instance } from "../../api/index.ts";
import { setCondition } from "../runtime/index.ts";
import type { PlanInput, ResolvedComponent } from "./plan.ts";
import { withStorageConditions } from "./storage-conditions.ts";

/** The status the cluster should report now. */
export function clusterStatus(input: PlanInput, held: ReadonlyMap<string, readonly string[]> = new Map()): ClusterStatus {
  const { cluster } = input;
  const previous = cluster.status ?? {};
  const components: Record<string, ComponentStatus> = {};
  for (const component of input.components) {
    const instances = input.instances.filter((i) => i.spec.componentName === component.name);
    components[component.name] = componentStatus(component, instances, previous.components?.[component.name]?.phase, held.get(component.name)?.length ?? 0);
  }
  const phase = cluster.metadata.deletionTimestamp !== undefined ? "Deleting" : clusterPhase(Object.values(components), input.resolveError);
  return {
    ...previous,
    observedGeneration: cluster.metadata.generation ?? 0,
    phase,
    ...messageOf(phase, components, input.resolveError),
    components,
    conditions: conditionsFor(input, phase),
  };
}

/** A component's phase from its instances and its previous phase. */
export function componentStatus(component: ResolvedComponent, instances: readonly Instance[], previousPhase: string | undefined, waitingForRestart = 0): ComponentStatus {
  const ready = instances.filter((i) => i.status?.ready === true).length;
  const failing = instances.filter((i) => i.status?.phase === "CrashLoopBackOff" || i.status?.phase === "Failed");
  // Instances whose restart waits for its turn in a rolling restart count as restarting.
  const restarting = waitingForRestart > 0 || instances.some((i) => i.spec.running && (instanceNeedsRestart(i) || instanceLiveConfigPending(i)));
  const everyStopped = instances.every((i) => i.status?.phase === "Stopped");
  let phase: ClusterPhase;
  if (component.stopped) phase = everyStopped ? "Stopped" : "Stopping";
  else if (ready === component.replicas && instances.length === component.replicas && !restarting) phase = "Running";
  else if (failing.length > 0) phase = ready > 0 ? "Abnormal" : "Failed";
  else if (previousPhase === undefined || previousPhase === "Creating") phase = "Creating";
  else phase = "Updating";
  return {
    phase,
    replicas: component.replicas,
    readyReplicas: ready,
    instances: instances.map(instanceSummary),
    ...noteOf(failing[0] ?? instances.find((i) => i.status?.restoreProgress !== undefined)),
  };
}

/** The message of an instance worth showing on its component: a failure, else a restore's progress. */
function noteOf(instance: Instance | undefined): { message?: string } {
  return instance?.status?.message === undefined ? {} : { message: `${instance.metadata.name}: ${instance.status.message}` };
}

function instanceSummary(instance: Instance): ClusterInstanceStatus {
  return {
    name: instance.metadata.name,
    port: instance.spec.port,
    phase: instance.status?.phase ?? "Pending",
    ready: instance.status?.ready ?? false,
    restartCount: instance.status?.restartCount ?? 0,
    ...(instance.status?.role === undefined ? {} : { role: instance.status.role }),
  };
}

const PRECEDENCE: readonly ClusterPhase[] = ["Failed", "Stopping", "Creating", "Updating", "Abnormal"];

/** The cluster phase from its components' phases (KubeBlocks' rules, simplified for one runtime). */
export function clusterPhase(components: readonly ComponentStatus[], resolveError: string | undefined): ClusterPhase {
  if (resolveError !== undefined) return "Failed";
  const phases = components.map((c) => c.phase as ClusterPhase);
  if (phases.every((p) => p === "Running")) return "Running";
  if (phases.every((p) => p === "Stopped")) return "Stopped";
  if (phases.every((p) => p === "Failed")) return "Failed";
  if (phases.includes("Failed")) return "Abnormal";
  return PRECEDENCE.find((p) => phases.includes(p)) ?? "Abnormal";
}

function messageOf(phase: ClusterPhase, components: Record<string, ComponentStatus>, resolveError: string | undefined): { message?: string } {
  if (resolveError !== undefined) return { message: resolveError };
  const problem = Object.entries(components).find(([, c]) => c.message !== undefined);
  if (phase !== "Running" && problem) return { message: `component ${problem[0]}: ${problem[1].message ?? ""}` };
  return {};
}

/** The fields of the spec that are set and not honoured, each named by its path, from the schema's notes. */
export function fieldsNotHonoured(cluster: Pick<Cluster, "spec">): string[] {
  return fieldNotes(clusterSpecSchema, cluster.spec, ["spec"])
    .filter((n) => n.support === "reported")
    .map((n) => `${n.field}: ${n.message}`);
}

function conditionsFor(input: PlanInput, phase: ClusterPhase): ClusterStatus["conditions"] {
  const generation = input.cluster.metadata.generation ?? 0;
  let conditions = setCondition(input.cluster.status?.conditions, {
    type: "ProvisioningStarted",
    status: "True",
    reason: "PreCheckSucceed",
    message: "the operator has started the provisioning of Cluster",
    observedGeneration: generation,
  });
  const readyReplicas = input.instances.filter((i) => i.status?.ready === true).length;
  const wantedReplicas = input.components.reduce((sum, c) => sum + (c.stopped ? 0 : c.replicas), 0);
  conditions = setCondition(conditions, {
    type: "ReplicasReady",
    status: readyReplicas >= wantedReplicas ? "True" : "False",
    reason: readyReplicas >= wantedReplicas ? "AllReplicasReady" : "ReplicasNotReady",
    message: `${readyReplicas}/${wantedReplicas} replicas ready`,
    observedGeneration: generation,
  });
  conditions = setCondition(conditions, {
    type: "Ready",
    status: phase === "Running" ? "True" : "False",
    reason: phase === "Running" ? "ClusterReady" : `Cluster${phase}`,
    message: phase === "Running" ? "all components are running" : (input.resolveError ?? `cluster is ${phase}`),
    observedGeneration: generation,
  });
  conditions = withStorageConditions(conditions, input.instances, generation);
  const limitations = [...input.components.flatMap((c) => c.limitations.map((l) => `${c.name}: ${l}`)), ...fieldsNotHonoured(input.cluster)];
  return setCondition(conditions, {
    type: "RuntimeLimitations",
    status: limitations.length > 0 ? "True" : "False",
    reason: limitations.length > 0 ? "NotHonouredByLocalRuntime" : "AllFieldsHonoured",
    message: limitations.length > 0 ? limitations.join("; ") : "every field of the spec is honoured",
    observedGeneration: generation,
  });
}
