/**
 * Instances of a component watched by arbiters (Redis Sentinel), and the arbiters' own instances: each start
 * needs the whole group (every member's and arbiter's port, the accounts of both components, the primary last
 * recorded). The engine's definition says which components arbitrate which (`arbiterOf`).
 */
import { accountSecretName, clusterTopology, instanceHost, secretValue, type Cluster, type Instance, type Resource, type Secret } from "../api/index.ts";
import { NotFoundError } from "../errors/index.ts";
import type { ArbiterGroup, ClientTrust, Credentials, Engine, EngineArbiter, GroupMember } from "../engines/index.ts";
import type { Store } from "../store/index.ts";
import { LABEL_INSTANCE, primaryOf } from "../controllers/cluster/index.ts";
import { configuredCredentials } from "./accounts.ts";

/** What a start of an instance of an arbitrated group does, or why it must wait. */
export type Arbitration = { kind: "arbiter" | "member"; arbiter: EngineArbiter; group: ArbiterGroup } | { kind: "waiting"; message: string };

/** A replicated component and the component of its arbiters. */
export interface ArbiterPair {
  arbitrated: string;
  arbiter: string;
}

/** The pair `component` belongs to in the cluster's topology, as the arbitrated component or as its arbiter (pure). */
export function arbiterPair(cluster: Cluster, engine: Engine, component: string): ArbiterPair | undefined {
  const definitions = clusterTopology(cluster, engine)?.components ?? [];
  const own = definitions.find((c) => c.name === component);
  if (own?.arbiterOf !== undefined) return { arbitrated: own.arbiterOf, arbiter: own.name };
  const watcher = definitions.find((c) => c.arbiterOf === component);
  return watcher === undefined ? undefined : { arbitrated: component, arbiter: watcher.name };
}

/**
 * The credentials of `account` of `component`: the password in effect; or, for an instance that holds the account
 * (`holder`), as its configuration takes them during a rotation (ADR 0038: the passwords it accepts, the one it logs in with).
 */
async function readAccount(store: Store, cluster: Cluster, component: string, account: string, holder?: Instance): Promise<Credentials> {
  const name = accountSecretName(cluster.metadata.name, component, account);
  const secret = await store.get<Secret>({ kind: "Secret", namespace: cluster.metadata.namespace ?? "default", name });
  const password = secretValue(secret, "password");
  if (secret === undefined || password === undefined) throw new NotFoundError(`account secret ${name} is missing; the cluster controller creates it`, { subject: { kind: "Secret", name } });
  return (holder === undefined ? undefined : configuredCredentials(secret, holder, account)) ?? { username: account, password };
}

/**
 * The accounts of the group; with `starting` (an instance of the group being configured), the accounts its server holds
 * as it configures them: a member holds the arbitrated component's, an arbiter its own administrator, both the arbiter account.
 */
async function groupCredentials(store: Store, cluster: Cluster, engine: Engine, pair: ArbiterPair, starting?: Instance): Promise<ArbiterGroup["credentials"] | undefined> {
  const adminAccount = engine.systemAccounts[0]?.name;
  const replication = engine.replication;
  if (adminAccount === undefined || replication?.arbiter === undefined) return undefined;
  const member = starting?.spec.componentName === pair.arbitrated ? starting : undefined;
  const arbiter = starting?.spec.componentName === pair.arbiter ? starting : undefined;
  return {
    admin: await readAccount(store, cluster, pair.arbitrated, adminAccount, member),
    replication: await readAccount(store, cluster, pair.arbitrated, replication.account.name, member),
    arbiter: await readAccount(store, cluster, pair.arbitrated, replication.arbiter.account.name, starting),
    arbiterAdmin: await readAccount(store, cluster, pair.arbiter, adminAccount, arbiter),
  };
}

function asMembers(instances: readonly Instance[]): GroupMember[] {
  return [...instances].sort((a, b) => a.spec.ordinal - b.spec.ordinal).map((i) => ({ name: i.metadata.name, port: i.spec.port, host: instanceHost(i) }));
}

/** The instances of `pair` among `instances` (the cluster's), or why the group is not complete yet (pure). */
export function arbiterInstances(cluster: Cluster, pair: ArbiterPair, instances: readonly Instance[]): { members: Instance[]; arbiters: Instance[] } | string {
  const owned = (r: Resource): boolean => (r.metadata.ownerReferences ?? []).some((o) => o.uid === cluster.metadata.uid) && r.metadata.deletionTimestamp === undefined;
  const live = instances.filter(owned);
  const members = live.filter((i) => i.spec.componentName === pair.arbitrated && i.spec.replication !== undefined);
  const arbiters = live.filter((i) => i.spec.componentName === pair.arbiter);
  const wanted = (name: string): number => cluster.spec.componentSpecs.find((c) => c.name === name)?.replicas ?? 0;
  if (wanted(pair.arbiter) === 0) return `component ${pair.arbitrated} needs its arbiter component ${pair.arbiter}: add it to the cluster`;
  if (members.length < wanted(pair.arbitrated) || arbiters.length < wanted(pair.arbiter)) return `waiting for every instance of ${pair.arbitrated} and ${pair.arbiter} to be created`;
  return { members, arbiters };
}

/**
 * The group of `pair` in `cluster`, or why it cannot be built yet (its instances are still being created); `trust` is
 * what this node's connections to its servers check their certificates against.
 */
export async function arbiterGroup(store: Store, cluster: Cluster, engine: Engine, pair: ArbiterPair & { trust?: ClientTrust | undefined; starting?: Instance }): Promise<ArbiterGroup | string> {
  const listed = await store.list<Instance>("Instance", { namespace: cluster.metadata.namespace ?? "default", labelSelector: `${LABEL_INSTANCE}=${cluster.metadata.name}` });
  const found = arbiterInstances(cluster, pair, listed.items);
  if (typeof found === "string") return found;
  const credentials = await groupCredentials(store, cluster, engine, pair, pair.starting);
  if (credentials === undefined) return `engine ${engine.name} has no arbiter`;
  return {
    name: `${cluster.metadata.name}-${pair.arbitrated}`,
    members: asMembers(found.members),
    arbiters: asMembers(found.arbiters),
    lastKnownPrimary: primaryOf(cluster, { name: pair.arbitrated, replicated: true }, found.members),
    credentials,
    trust: pair.trust,
  };
}

/** How `instance` takes part in an arbitrated group, if it does; `trust` as for arbiterGroup. */
export async function arbitrationOf(store: Store, instance: Instance, engine: Engine, trust?: ClientTrust): Promise<Arbitration | undefined> {
  const arbiter = engine.replication?.arbiter;
  if (arbiter === undefined) return undefined;
  const cluster = await store.get<Cluster>({ kind: "Cluster", namespace: instance.metadata.namespace ?? "default", name: instance.spec.clusterName });
  if (cluster === undefined) return undefined;
  const pair = arbiterPair(cluster, engine, instance.spec.componentName);
  const isArbiter = pair?.arbiter === instance.spec.componentName;
  if (pair === undefined || (!isArbiter && instance.spec.replication === undefined)) return undefined;
  const group = await arbiterGroup(store, cluster, engine, { ...pair, trust, starting: instance });
  return typeof group === "string" ? { kind: "waiting", message: group } : { kind: isArbiter ? "arbiter" : "member", arbiter, group };
}
