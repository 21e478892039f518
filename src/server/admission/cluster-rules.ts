/** Semantic rules of a Cluster that a schema cannot express. Pure: engines and installed versions are passed in. */
import { clusterTopology, componentTopology, engineNameFor, usesClusterDef, type Cluster, type ComponentSpec } from "../../api/index.ts";
import type { FieldCause } from "../../errors/index.ts";
import type { Engine, EngineVersion, TopologyDefinition } from "../../engines/index.ts";
import { clientTlsCauses } from "./client-tls-rules.ts";
import { installedOffer, unknownEngineReason, type OfferedEngine } from "./engine-offer.ts";
import { systemAccountCauses, systemAccountChangeCauses } from "./system-account-rules.ts";

/** The engines a rule can see: a name lookup and the list of names. */
export interface EngineDirectory {
  find(name: string): Engine | undefined;
  list(): readonly OfferedEngine[];
}

/** Everything the cluster rules need, gathered beforehand so the rules stay pure. */
export interface ClusterRuleInput {
  cluster: Cluster;
  /** The stored cluster on update; undefined on create. */
  old?: Cluster | undefined;
  engines: EngineDirectory;
  /** Installed versions by engine name (every engine's, for the messages); engines absent count as having none installed. */
  installed: ReadonlyMap<string, readonly EngineVersion[]>;
}

const MAX_NAME = 63;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Every rule violation of a cluster, as field causes (empty when the cluster is acceptable). */
export function clusterCauses(input: ClusterRuleInput): FieldCause[] {
  const known = input.engines.list().map((e) => e.name);
  const causes = [...nameCauses(input.cluster), ...clusterDefCauses(input, known)];
  input.cluster.spec.componentSpecs.forEach((component, index) => {
    causes.push(...componentCauses(input, component, index, known));
  });
  causes.push(...duplicateComponentCauses(input.cluster), ...arbiterCauses(input, known), ...immutableCauses(input));
  return causes;
}

/** A component its topology has arbiters for (Redis Sentinel) cannot run without them: the arbiter component is required. */
function arbiterCauses(input: ClusterRuleInput, known: readonly string[]): FieldCause[] {
  const { cluster } = input;
  const clusterDef = cluster.spec.clusterDef;
  const engine = clusterDef === undefined || clusterDef === "" ? undefined : input.engines.find(clusterDef);
  const topology = engine === undefined || !known.includes(engine.name) ? undefined : clusterTopology(cluster, engine);
  const present = new Set(cluster.spec.componentSpecs.map((c) => c.name));
  return (topology?.components ?? [])
    .filter((c) => c.arbiterOf !== undefined && present.has(c.arbiterOf) && !present.has(c.name))
    .map((c) => ({
      field: "spec.componentSpecs",
      reason: "FieldValueRequired",
      message: `Required value: topology ${topology?.name ?? ""} of ${engine?.name ?? ""} needs component ${c.name} (${c.minReplicas}-${c.maxReplicas} replicas, an odd number such as 3) to decide which ${c.arbiterOf ?? ""} instance is primary; add it`,
    }));
}

/** Engine names a cluster's components resolve to, to know which installed versions to look up. */
export function enginesOf(cluster: Cluster, known: readonly string[]): string[] {
  const names = cluster.spec.componentSpecs.map((c) => engineNameFor(cluster, c, known));
  return [...new Set(names.filter((n): n is string => n !== undefined))];
}

function nameCauses(cluster: Cluster): FieldCause[] {
  const name = cluster.metadata.name;
  if (!DNS1123_LABEL.test(name) || name.length > MAX_NAME) {
    return [{ field: "metadata.name", reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(name)}: a cluster name must be a DNS-1123 label: at most 63 lower case letters, digits and '-', starting and ending with a letter or digit` }];
  }
  return [];
}

function clusterDefCauses(input: ClusterRuleInput, known: readonly string[]): FieldCause[] {
  const clusterDef = input.cluster.spec.clusterDef;
  if (clusterDef === undefined || clusterDef === "" || known.includes(clusterDef)) return [];
  const reason = unknownEngineReason(clusterDef, input.engines.list());
  return [{ field: "spec.clusterDef", reason: "FieldValueNotSupported", message: `Unsupported value: ${JSON.stringify(clusterDef)}: ${reason}; ${offerOf(input)}` }];
}

/** Every engine of this host with its installed versions, for a refusal's message. */
function offerOf(input: ClusterRuleInput): string {
  return installedOffer(input.engines.list(), input.installed);
}

function componentCauses(input: ClusterRuleInput, component: ComponentSpec, index: number, known: readonly string[]): FieldCause[] {
  const field = `spec.componentSpecs[${index}]`;
  const { cluster } = input;
  const byName = usesClusterDef(cluster);
  if (byName && !known.includes(cluster.spec.clusterDef ?? "")) return []; // already reported on spec.clusterDef
  const resolved = resolveEngine(input, component, field, known);
  if (!("engine" in resolved)) return [resolved.cause];
  const { engine } = resolved;
  const topology = clusterTopology(cluster, engine);
  if (topology === undefined) {
    // Reported once, on the first component.
    return index === 0 ? [topologyCause(engine, cluster.spec.topology ?? "")] : [];
  }
  const where: ComponentPlace = { cluster, component, field, engine, topology };
  return [...topologyComponentCauses(where), ...versionCauses(input, component, field, engine), ...clientTlsCauses(cluster, component, field, topology.components.some((c) => c.arbiterOf === component.name)), ...systemAccountCauses(cluster, component, field, engine)];
}

/** A component in its engine's topology, for the checks that need all of it. */
interface ComponentPlace {
  cluster: Cluster;
  component: ComponentSpec;
  field: string;
  engine: Engine;
  topology: TopologyDefinition;
}

function resolveEngine(input: ClusterRuleInput, component: ComponentSpec, field: string, known: readonly string[]): { engine: Engine } | { cause: FieldCause } {
  const engineName = engineNameFor(input.cluster, component, known);
  const engine = engineName === undefined ? undefined : input.engines.find(engineName);
  if (engine === undefined) return { cause: componentDefCause(input, component, field) };
  const mismatch = componentDefMismatch(component, engine.name, field, known);
  return mismatch ? { cause: mismatch } : { engine };
}

function componentDefCause(input: ClusterRuleInput, component: ComponentSpec, field: string): FieldCause {
  if (component.componentDef === undefined) {
    return { field: `${field}.componentDef`, reason: "FieldValueRequired", message: `Required value: set spec.clusterDef, or componentDef on every component, to one of the engines; ${offerOf(input)}` };
  }
  const reason = unknownEngineReason(component.componentDef, input.engines.list());
  return { field: `${field}.componentDef`, reason: "FieldValueNotSupported", message: `Unsupported value: ${JSON.stringify(component.componentDef)}: ${reason}; componentDef names an engine, optionally with a suffix (e.g. postgresql-15); ${offerOf(input)}` };
}

/** A componentDef that names another engine than the cluster's clusterDef. */
function componentDefMismatch(component: ComponentSpec, engineName: string, field: string, known: readonly string[]): FieldCause | undefined {
  const componentDef = component.componentDef;
  if (componentDef === undefined || componentDef === "") return undefined;
  const own = engineNameFor({ spec: { componentSpecs: [], terminationPolicy: "Delete" } }, component, known);
  if (own === engineName) return undefined;
  return { field: `${field}.componentDef`, reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(componentDef)}: does not belong to clusterDef ${engineName}; remove componentDef or use ${engineName}` };
}

function topologyCause(engine: Engine, requested: string): FieldCause {
  const valid = engine.definition.topologies.map((t) => t.name).join(", ");
  return { field: "spec.topology", reason: "FieldValueNotSupported", message: `Unsupported value: ${JSON.stringify(requested)}: ${engine.name} has topologies: ${valid}` };
}

function topologyComponentCauses(place: ComponentPlace): FieldCause[] {
  const { cluster, component, field, engine, topology } = place;
  // With componentDef the component name is the user's choice, as in KubeBlocks; a one-component topology still bounds it.
  const definition = componentTopology(cluster, engine, component.name);
  if (definition === undefined) {
    const names = topology.components.map((c) => c.name).join(", ");
    return [{ field: `${field}.name`, reason: "FieldValueNotSupported", message: `Unsupported value: ${JSON.stringify(component.name)}: topology ${topology.name} of ${engine.name} has components: ${names}` }];
  }
  const causes = replicaCauses(component.replicas, `${field}.replicas`, definition, `${engine.name} topology ${topology.name}`);
  const maxOrdinal = Math.max(component.replicas, definition.maxReplicas) - 1;
  const longest = `${cluster.metadata.name}-${component.name}-${Math.max(maxOrdinal, 0)}`;
  if (longest.length > MAX_NAME) {
    causes.push({ field: "metadata.name", reason: "FieldValueTooLong", message: `Invalid value: ${JSON.stringify(cluster.metadata.name)}: instance names such as ${longest} would be ${longest.length} characters, more than ${MAX_NAME}; shorten the cluster or component name` });
  }
  return causes;
}

function replicaCauses(replicas: number, field: string, definition: TopologyDefinition["components"][number], where: string): FieldCause[] {
  const { minReplicas: min, maxReplicas: max } = definition;
  if (max === 0 && replicas > 0) {
    return [{ field, reason: "FieldValueNotSupported", message: `Invalid value: ${replicas}: ${where} is not supported yet (it runs no ${definition.name} replicas); choose another topology` }];
  }
  if (replicas > max) {
    return [{ field, reason: "FieldValueNotSupported", message: `Invalid value: ${replicas}: ${where} supports at most ${max} replica(s) of ${definition.name}; ${replicas} replicas are not supported yet` }];
  }
  if (replicas < min) {
    return [{ field, reason: "FieldValueInvalid", message: `Invalid value: ${replicas}: ${where} needs at least ${min} replica(s) of ${definition.name}; to stop a component set stop: true instead` }];
  }
  return [];
}

function versionCauses(input: ClusterRuleInput, component: ComponentSpec, field: string, engine: Engine): FieldCause[] {
  const installed = input.installed.get(engine.name) ?? [];
  if (engine.matchVersion(component.serviceVersion, installed) !== undefined) return [];
  const versionField = `${field}.serviceVersion`;
  if (installed.length === 0) {
    return [{ field: versionField, reason: "FieldValueNotSupported", message: `no version of ${engine.name} is installed on this host; run holdfast engines install ${engine.name}; ${offerOf(input)}` }];
  }
  const have = installed.map((v) => v.version).join(", ");
  return [{ field: versionField, reason: "FieldValueNotSupported", message: `Unsupported value: ${JSON.stringify(component.serviceVersion)}: installed ${engine.name} versions: ${have}; use one of them, or run holdfast engines install; ${offerOf(input)}` }];
}

function duplicateComponentCauses(cluster: Cluster): FieldCause[] {
  const seen = new Set<string>();
  const causes: FieldCause[] = [];
  cluster.spec.componentSpecs.forEach((c, i) => {
    if (seen.has(c.name)) causes.push({ field: `spec.componentSpecs[${i}].name`, reason: "FieldValueDuplicate", message: `Duplicate value: ${JSON.stringify(c.name)}` });
    seen.add(c.name);
  });
  return causes;
}

function immutableCauses(input: ClusterRuleInput): FieldCause[] {
  const { cluster, old } = input;
  if (old === undefined) return [];
  const causes: FieldCause[] = [];
  if ((old.spec.clusterDef ?? "") !== (cluster.spec.clusterDef ?? "")) {
    causes.push({ field: "spec.clusterDef", reason: "FieldValueForbidden", message: `Forbidden: field is immutable (was ${JSON.stringify(old.spec.clusterDef ?? "")}); create a new cluster instead` });
  }
  causes.push(...systemAccountChangeCauses(cluster, old));
  if (topologyNameOf(old, input.engines) !== topologyNameOf(cluster, input.engines)) {
    causes.push({ field: "spec.topology", reason: "FieldValueForbidden", message: `Forbidden: field is immutable (was ${JSON.stringify(topologyNameOf(old, input.engines) ?? "")}); create a new cluster instead` });
  }
  return causes;
}

/** The topology name with the default filled in, so writing the default explicitly is not a change. */
function topologyNameOf(cluster: Cluster, engines: EngineDirectory): string | undefined {
  const clusterDef = cluster.spec.clusterDef;
  const engine = clusterDef === undefined ? undefined : engines.find(clusterDef);
  if (engine === undefined) return cluster.spec.topology;
  return clusterTopology(cluster, engine)?.name ?? cluster.spec.topology;
}
