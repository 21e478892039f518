/** `holdfast cluster create`: a Cluster manifest from a few flags, as kbcli builds one. */
import { topologyNamed, type Resource } from "../api/index.ts";
import type { Engine, TopologyDefinition } from "../engines/index.ts";
import { UsageError } from "./args.ts";

/** What the user asked for. */
export interface ClusterCreateOptions {
  name: string;
  namespace: string;
  version?: string;
  replicas?: number;
  topology?: string;
  terminationPolicy: string;
  memory?: string;
  cpu?: string;
}

const TERMINATION_POLICIES = ["DoNotTerminate", "Delete", "WipeOut"];

/** The topology asked for, else the engine's default. */
export function chooseTopology(engine: Engine, requested: string | undefined): TopologyDefinition {
  const topologies = engine.definition.topologies;
  const chosen = topologyNamed(topologies, requested);
  if (chosen === undefined) {
    throw new UsageError(`engine ${engine.name} has no topology "${requested ?? ""}"; use one of ${topologies.map((t) => t.name).join(", ")}`, "cluster create");
  }
  return chosen;
}

function resourcesOf(options: ClusterCreateOptions): Record<string, unknown> | undefined {
  const amounts: Record<string, string> = {};
  if (options.cpu !== undefined) amounts["cpu"] = options.cpu;
  if (options.memory !== undefined) amounts["memory"] = options.memory;
  if (Object.keys(amounts).length === 0) return undefined;
  return { limits: { ...amounts }, requests: { ...amounts } };
}

function replicasFor(component: TopologyDefinition["components"][number], requested: number | undefined, first: boolean): number {
  const replicas = first && requested !== undefined ? requested : Math.max(1, component.defaultReplicas ?? component.minReplicas);
  if (replicas < component.minReplicas || replicas > component.maxReplicas) {
    const range = component.minReplicas === component.maxReplicas ? `exactly ${component.minReplicas}` : `${component.minReplicas} to ${component.maxReplicas}`;
    throw new UsageError(`component ${component.name} takes ${range} replica(s) in this topology, not ${replicas}`, "cluster create");
  }
  return replicas;
}

/** Build the Cluster object (pure): one componentSpec per component of the topology. */
export function buildClusterManifest(engine: Engine, options: ClusterCreateOptions): Resource {
  if (!TERMINATION_POLICIES.includes(options.terminationPolicy)) {
    throw new UsageError(`--termination-policy must be one of ${TERMINATION_POLICIES.join(", ")}`, "cluster create");
  }
  const topology = chooseTopology(engine, options.topology);
  const resources = resourcesOf(options);
  const componentSpecs = topology.components.map((component, index) => ({
    name: component.name,
    ...(options.version === undefined ? {} : { serviceVersion: options.version }),
    replicas: replicasFor(component, options.replicas, index === 0),
    ...(resources === undefined ? {} : { resources }),
  }));
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: options.name, namespace: options.namespace },
    spec: {
      clusterDef: engine.definition.name,
      topology: topology.name,
      terminationPolicy: options.terminationPolicy,
      componentSpecs,
    },
  };
}
