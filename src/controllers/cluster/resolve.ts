/** Look up, for each component, its engine and installed version: the I/O half of planning. */
import { clientTlsOf, componentTopology, DATA_VOLUME, storageQuotaOf, engineNameFor, type InstanceClientTls, type Cluster, type ComponentSpec, type SchedulingPolicy } from "../../api/index.ts";
import { parameterPolicy, type Engine, type EngineVersion } from "../../engines/index.ts";
import type { ResolvedComponent } from "./plan.ts";
import type { PlacementPolicy } from "./placement.ts";

/** What the controller needs from the engine catalog. */
export interface EngineLookup {
  list(): readonly Engine[];
  find(name: string): Engine | undefined;
  versions(name: string): Promise<EngineVersion[]>;
}

export type ResolveResult = { components: ResolvedComponent[]; error?: undefined } | { components: ResolvedComponent[]; error: string };

/** Resolve every component; the first problem becomes the cluster's failure message. */
export async function resolveComponents(cluster: Cluster, engines: EngineLookup): Promise<ResolveResult> {
  const components: ResolvedComponent[] = [];
  const known = engines.list().map((e) => e.name);
  for (const spec of cluster.spec.componentSpecs) {
    const engineName = engineNameFor(cluster, spec, known);
    const engine = engineName === undefined ? undefined : engines.find(engineName);
    if (!engine) return { components, error: `component ${spec.name}: no engine named by clusterDef/componentDef (known: ${known.join(", ")})` };
    const installed = await engines.versions(engine.name);
    const version = engine.matchVersion(spec.serviceVersion, installed);
    if (!version) {
      const have = installed.map((v) => v.version).join(", ") || "none";
      return { components, error: `component ${spec.name}: ${engine.name} ${spec.serviceVersion ?? "(any)"} is not installed (installed: ${have}); run holdfast engines install` };
    }
    components.push({ ...resolved(spec, engine, version, isReplicated(cluster, spec, engine)), policy: placementPolicy(cluster.spec.schedulingPolicy, spec.schedulingPolicy) });
  }
  return { components };
}

/** The placement policy of a component: its own schedulingPolicy's fields over the cluster's. */
export function placementPolicy(cluster: SchedulingPolicy | undefined, component: SchedulingPolicy | undefined): PlacementPolicy {
  const field = <K extends keyof PlacementPolicy>(key: K): PlacementPolicy[K] => component?.[key] ?? cluster?.[key];
  const policy: PlacementPolicy = {};
  const nodeName = field("nodeName");
  const nodeSelector = field("nodeSelector");
  const topologySpreadConstraints = field("topologySpreadConstraints");
  if (nodeName !== undefined) policy.nodeName = nodeName;
  if (nodeSelector !== undefined) policy.nodeSelector = nodeSelector;
  if (topologySpreadConstraints !== undefined) policy.topologySpreadConstraints = topologySpreadConstraints;
  return policy;
}

/** Does the component's topology replicate it, and can the engine? */
export function isReplicated(cluster: Cluster, spec: ComponentSpec, engine: Engine): boolean {
  return engine.replication !== undefined && componentTopology(cluster, engine, spec.name)?.replicated === true;
}

function resolved(spec: ComponentSpec, engine: Engine, version: EngineVersion, replicated: boolean): ResolvedComponent {
  // A replicated component also holds the account its arbiters (Redis Sentinel) use on its instances.
  const replicationAccounts = replicated ? [engine.replication?.account.name, engine.replication?.arbiter?.account.name].filter((a) => a !== undefined) : [];
  return {
    name: spec.name,
    engine: engine.name,
    version: version.version,
    replicas: spec.replicas,
    stopped: spec.stop === true,
    parameters: componentParameters(spec, engine),
    liveParameters: liveParameterNames(componentParameters(spec, engine), engine),
    ...(engine.parameterSchema === undefined ? {} : { parameterSchema: engine.parameterSchema }),
    accounts: [...engine.systemAccounts.map((a) => a.name), ...replicationAccounts, ...exporterAccounts(spec, engine)],
    limitations: limitationsOf(spec),
    replicated,
    ...(spec.disableExporter === true ? { disableExporter: true } : {}),
    ...clientTlsField(spec),
    ...storageQuotaField(spec),
  };
}

/** The component's client TLS, when it asks for it. */
function clientTlsField(spec: ComponentSpec): { clientTls?: InstanceClientTls } {
  const clientTls = clientTlsOf(spec);
  return clientTls === undefined ? {} : { clientTls };
}

/** The component's storage quota (its `data` volume's storage request, ADR 0048), when it sets one. */
function storageQuotaField(spec: ComponentSpec): { storageQuota?: number } {
  const storageQuota = storageQuotaOf(spec);
  return storageQuota === undefined ? {} : { storageQuota };
}

/** The exporter's monitoring account, unless the component has no exporter (`disableExporter: true`). */
function exporterAccounts(spec: ComponentSpec, engine: Engine): string[] {
  return spec.disableExporter === true || engine.exporter === undefined ? [] : [engine.exporter.account.name];
}

/** Fields the local runtime accepts but cannot honour, said plainly rather than dropped. */
export function limitationsOf(spec: ComponentSpec): string[] {
  const notes: string[] = [];
  const { limits, requests } = spec.resources ?? {};
  if (limits?.["cpu"] !== undefined || requests?.["cpu"] !== undefined) notes.push("cpu limits and requests are not enforced by the local runtime");
  if (limits?.["memory"] !== undefined) notes.push("memory limit sizes the engine's memory parameters but is not enforced as a hard limit");
  for (const template of spec.volumeClaimTemplates ?? []) {
    const storage = template.spec?.resources?.requests?.["storage"];
    // The data volume's size is enforced as a quota (ADR 0048); other volumes have no files of their own here.
    if (storage !== undefined && template.name !== DATA_VOLUME) notes.push(`volume ${template.name}: storage size ${String(storage)} is not reserved; data lives in the Holdfast home`);
    const storageClass = template.spec?.storageClassName;
    if (storageClass !== undefined && storageClass !== "") notes.push(`volume ${template.name}: storageClassName ${storageClass} is ignored`);
  }
  return notes;
}

/** The parameters of a component's instances: those sized from its resources, with its `configs` variables over them. */
export function componentParameters(spec: ComponentSpec, engine: Engine): Record<string, string> {
  const configured = Object.assign({}, ...(spec.configs ?? []).map((c) => c.variables ?? {})) as Record<string, string>;
  return { ...engine.parametersFor(spec.resources), ...configured };
}

/** The engine `component` of `cluster` runs; undefined when the component or its engine is unknown. */
export function componentEngine(cluster: Cluster, component: string, engines: EngineLookup): Engine | undefined {
  const spec = cluster.spec.componentSpecs.find((c) => c.name === component);
  const engineName = spec === undefined ? undefined : engineNameFor(cluster, spec, engines.list().map((e) => e.name));
  return engineName === undefined ? undefined : engines.find(engineName);
}

/** The parameters `component` of `cluster` asks for now; undefined when the component or its engine is unknown. */
export function desiredParameters(cluster: Cluster, component: string, engines: EngineLookup): Record<string, string> | undefined {
  const spec = cluster.spec.componentSpecs.find((c) => c.name === component);
  const engineName = spec === undefined ? undefined : engineNameFor(cluster, spec, engines.list().map((e) => e.name));
  const engine = engineName === undefined ? undefined : engines.find(engineName);
  return spec === undefined || engine === undefined ? undefined : componentParameters(spec, engine);
}

/**
 * The names among `parameters` that the engine applies to a running server (its dynamic ones), sorted; none for an
 * engine that cannot apply parameters live (its dynamic ones take effect at a restart, like static ones).
 */
export function liveParameterNames(parameters: Record<string, string>, engine: Engine): string[] {
  const schema = engine.parameterSchema;
  return schema === undefined || engine.applyParameters === undefined ? [] : Object.keys(parameters).filter((name) => parameterPolicy(schema, name) === "dynamic").sort();
}
