/**
 * The node agent's part of an online password rotation (ADR 0038): on an instance that is to accept the next password
 * of an account (every instance, or the primary alone where accounts replicate), change it on the running server;
 * then make the instance's own connections use it, and confirm in status by generation (never the value). The
 * cluster controller makes the next password the one in effect once every running instance has confirmed.
 *
 * Engines whose users hold two passwords at once (EnginePasswords.keepsPrevious, Redis) go in three steps so no client
 * is refused: every instance holding the account adds the next password (confirms `generation`); once all of them do,
 * each moves its own connections to it (confirms `connectsWith`); once it is the password in effect, each removes the
 * others (confirms `alone`). An arbiter (Redis Sentinel) holds, besides its own component's accounts, the account it
 * logs in to the members with: it confirms that one under the account's name too.
 */
import { passwordGeneration, pendingPassword, secretValue, type Cluster, type Instance, type InstancePasswordStatus, type InstanceStatus, type Secret } from "../api/index.ts";
import type { ClientTrust, Credentials, Engine, EnginePasswords, HostAccess, InstanceContext } from "../engines/index.ts";
import { LABEL_ACCOUNT, LABEL_COMPONENT, LABEL_INSTANCE, holderComponents, readyHolders } from "../controllers/cluster/index.ts";
import type { Store } from "../store/index.ts";
import { passwordFor, readAccountSecret } from "./accounts.ts";
import { arbiterPair } from "./arbitration.ts";

/** A running instance of this node, as the rotation step sees it. */
export interface RotatingInstance {
  instance: Instance;
  engine: Engine;
  context: InstanceContext;
  host: HostAccess;
  trust: ClientTrust;
}

/** What an instance does next for an account: accept the next password, follow its primary, move its connections, drop the previous one. */
export type RotationStep = "change" | "follow" | "connect" | "retire" | "wait" | "done";

/** Where the instance stands in one account's rotation. */
export interface RotationPosition {
  scope: EnginePasswords["scope"];
  /** The engine keeps the previous password beside the next (EnginePasswords.keepsPrevious). */
  keepsPrevious?: boolean;
  /** The generation the instance accepts (-1: none recorded). */
  accepted: number;
  /** The generation its own connections log in with, and the one it accepts alone (keepsPrevious; -1: none recorded). */
  connectsWith?: number;
  alone?: number;
  /** The generation being rotated to; with `inEffect`, the generation in effect (no rotation under way). */
  generation: number;
  inEffect?: boolean;
  isPrimary: boolean;
  /** Does the component's primary accept `generation` (it changed it, and the change replicates)? */
  primaryAccepts: boolean;
  /** Does every ready instance holding the account accept `generation` (keepsPrevious)? */
  everyHolderAccepts?: boolean;
  /** May the previous password go: the instance's clients that follow the generation in effect (its exporter) use it. */
  clientsFollowed?: boolean;
}

/** After the next password took effect, a keepsPrevious engine's instance that still holds the previous one drops it (pure). */
function stepInEffect(p: RotationPosition): RotationStep {
  if (p.keepsPrevious !== true || p.accepted < p.generation || (p.alone ?? -1) >= p.generation) return "done";
  return p.clientsFollowed === false ? "wait" : "retire";
}

/**
 * An instance that does not accept the next generation changes it where the engine changes passwords (`every`, or the
 * primary); a replica of an engine whose accounts replicate follows once its primary has confirmed. An engine that keeps
 * the previous password moves the instance's connections once every holder accepts the next, and drops the previous
 * once the next is in effect (pure).
 */
export function rotationStep(p: RotationPosition): RotationStep {
  if (p.inEffect === true) return stepInEffect(p);
  if (p.accepted < p.generation) {
    if (p.scope === "every" || p.isPrimary) return "change";
    return p.primaryAccepts ? "follow" : "wait";
  }
  if (p.keepsPrevious !== true || (p.connectsWith ?? -1) >= p.generation) return "done";
  return p.everyHolderAccepts === true ? "connect" : "wait";
}

/** The cluster's topology as the rotation needs it: which component `instance` arbitrates, if it is an arbiter. */
async function arbitratedComponent(store: Store, instance: Instance, engine: Engine): Promise<string | undefined> {
  if (engine.replication?.arbiter === undefined) return undefined;
  const cluster = await store.get<Cluster>({ kind: "Cluster", namespace: instance.metadata.namespace ?? "default", name: instance.spec.clusterName });
  if (cluster === undefined) return undefined;
  const pair = arbiterPair(cluster, engine, instance.spec.componentName);
  return pair?.arbiter === instance.spec.componentName ? pair.arbitrated : undefined;
}

/** The account Secrets `instance` holds: its component's, and for an arbiter the account it logs in to the members with. */
export async function heldAccounts(store: Store, instance: Instance, engine?: Engine): Promise<Secret[]> {
  const { clusterName, componentName } = instance.spec;
  const arbitrated = engine === undefined ? undefined : await arbitratedComponent(store, instance, engine);
  const arbiterAccount = engine?.replication?.arbiter?.account.name;
  const secrets = await store.list<Secret>("Secret", { namespace: instance.metadata.namespace ?? "default", labelSelector: `${LABEL_INSTANCE}=${clusterName}` });
  return secrets.items.filter((secret) => {
    const account = secret.metadata.labels?.[LABEL_ACCOUNT];
    const component = secret.metadata.labels?.[LABEL_COMPONENT];
    if (account === undefined) return false;
    return component === componentName || (arbitrated !== undefined && component === arbitrated && account === arbiterAccount);
  });
}

/** The account Secrets `instance` holds that have a rotation under way. */
export async function pendingAccounts(store: Store, instance: Instance, engine?: Engine): Promise<Secret[]> {
  return (await heldAccounts(store, instance, engine)).filter((secret) => pendingPassword(secret) !== undefined);
}

/** Is a rotation under way in `instance`'s component (a new copy of its data then waits: it would set old passwords)? */
export async function rotationUnderWay(store: Store, instance: Instance, engine?: Engine): Promise<boolean> {
  return (await pendingAccounts(store, instance, engine)).length > 0;
}

async function clusterInstances(store: Store, instance: Instance): Promise<Instance[]> {
  const list = await store.list<Instance>("Instance", { namespace: instance.metadata.namespace ?? "default", labelSelector: `${LABEL_INSTANCE}=${instance.spec.clusterName}` });
  return list.items;
}

async function primaryAccepts(store: Store, instance: Instance, account: string, generation: number): Promise<boolean> {
  const primary = (await clusterInstances(store, instance)).find((i) => i.spec.componentName === instance.spec.componentName && i.status?.role === "primary");
  return (primary?.status?.passwords?.[account]?.generation ?? -1) >= generation;
}

/** Does every ready instance holding `account` of the Secret's component accept `generation`? */
async function everyHolderAccepts(store: Store, r: RotatingInstance, secret: Secret, generation: number): Promise<boolean> {
  const account = secret.metadata.labels?.[LABEL_ACCOUNT] ?? "";
  const component = secret.metadata.labels?.[LABEL_COMPONENT] ?? "";
  const cluster = await store.get<Cluster>({ kind: "Cluster", namespace: r.instance.metadata.namespace ?? "default", name: r.instance.spec.clusterName });
  if (cluster === undefined) return false;
  const ready = readyHolders(await clusterInstances(store, r.instance), holderComponents(cluster, r.engine, component, account));
  return ready.length > 0 && ready.every((i) => (i.status?.passwords?.[account]?.generation ?? -1) >= generation);
}

/** The administrator of the instance's own server: its component's first system account (an arbiter's own administrator). */
async function adminCandidates(store: Store, instance: Instance, engine: Engine): Promise<{ name: string; passwords: string[] }> {
  const name = engine.systemAccounts[0]?.name ?? "";
  const secret = await readAccountSecret(store, instance, name);
  const candidates = secret === undefined ? [] : [passwordFor(secret, instance, name), secretValue(secret, "password"), pendingPassword(secret)?.password];
  return { name, passwords: [...new Set(candidates.filter((p): p is string => p !== undefined))] };
}

/**
 * Run `act` as the administrator: with the password this agent uses, else the administrator's other one (the
 * administrator's own rotation, changed before a crash kept this agent from confirming it).
 */
async function asAdmin(r: RotatingInstance, store: Store, act: (admin: Credentials) => Promise<void>): Promise<void> {
  const admin = await adminCandidates(store, r.instance, r.engine);
  let failure: unknown = new Error(`the administrator's account secret of ${r.instance.metadata.name} is missing`);
  for (const password of admin.passwords) {
    try {
      await act({ username: admin.name, password });
      return;
    } catch (error) {
      failure = error;
    }
  }
  throw failure;
}

/** Writes status changes of the instance and returns it as written. */
export type PasswordStatusWriter = (changes: Pick<InstanceStatus, "passwords">) => Promise<Instance>;

/** The instance's exporter logs in with the monitoring account's generation in effect, or runs none. */
function exporterFollowed(r: RotatingInstance, account: string, inEffect: number): boolean {
  if (r.engine.exporter?.account.name !== account) return true;
  const exporter = r.instance.status?.exporter;
  return exporter === undefined || (exporter.accountGeneration ?? 0) >= inEffect;
}

/** The generations `r.instance` confirmed for `account` (-1: none). */
function confirmedOf(r: RotatingInstance, account: string): { accepted: number; connectsWith: number; alone: number } {
  const status: Partial<InstancePasswordStatus> = r.instance.status?.passwords?.[account] ?? {};
  return { accepted: status.generation ?? -1, connectsWith: status.connectsWith ?? -1, alone: status.alone ?? -1 };
}

/** Where `r.instance` stands for the account of `secret` (pending: the next generation; else the one in effect). */
async function positionOf(r: RotatingInstance, store: Store, passwords: EnginePasswords, secret: Secret): Promise<RotationPosition> {
  const account = secret.metadata.labels?.[LABEL_ACCOUNT] ?? "";
  const pending = pendingPassword(secret);
  const generation = pending?.generation ?? passwordGeneration(secret);
  const isPrimary = r.instance.status?.role === "primary";
  const keepsPrevious = passwords.keepsPrevious === true;
  const position: RotationPosition = {
    scope: passwords.scope, keepsPrevious, ...confirmedOf(r, account), generation, inEffect: pending === undefined, isPrimary, primaryAccepts: false,
    clientsFollowed: exporterFollowed(r, account, generation),
  };
  if (pending === undefined) return position;
  if (passwords.scope === "primary" && !isPrimary && position.accepted < generation) position.primaryAccepts = await primaryAccepts(store, r.instance, account, generation);
  if (keepsPrevious && position.accepted >= generation) position.everyHolderAccepts = await everyHolderAccepts(store, r, secret, generation);
  return position;
}

/** Remove every password of the account but the one in effect; the status confirming it. */
async function retire(r: RotatingInstance, store: Store, passwords: EnginePasswords, secret: Secret): Promise<InstancePasswordStatus> {
  const account = secret.metadata.labels?.[LABEL_ACCOUNT] ?? "";
  const inEffect = { username: account, password: secretValue(secret, "password") ?? "" };
  await asAdmin(r, store, (admin) => passwords.retire?.(r.context, admin, inEffect, r.trust) ?? Promise.resolve());
  const generation = passwordGeneration(secret);
  return { ...(r.instance.status?.passwords?.[account] ?? { generation }), alone: generation };
}

/** Point the instance's own connections that log in as `account` at its password (EnginePasswords.useForOwnConnections). */
async function moveConnections(r: RotatingInstance, passwords: EnginePasswords, account: Credentials, admin: Credentials): Promise<void> {
  await passwords.useForOwnConnections?.(r.context, account, r.host, { admin, trust: r.trust });
}

/** Accept the next password (`change`, `follow`) or move the instance's connections to it (`connect`); the status confirming it. */
async function advance(r: RotatingInstance, store: Store, passwords: EnginePasswords, next: Credentials & { generation: number }, step: RotationStep): Promise<InstancePasswordStatus> {
  const account = { username: next.username, password: next.password };
  const generation = next.generation;
  if (step === "change") await asAdmin(r, store, (admin) => passwords.change(r.context, admin, account, r.trust));
  if (passwords.keepsPrevious !== true) {
    await asAdmin(r, store, (admin) => moveConnections(r, passwords, account, admin));
    return { generation };
  }
  // An engine that keeps the previous password moves connections only once every holder accepts the next (`connect`).
  if (step === "change") return { generation };
  await asAdmin(r, store, (admin) => moveConnections(r, passwords, account, admin));
  return { generation, connectsWith: generation };
}

/** Carry out `step` for the account of `secret`; the status to confirm, or undefined when nothing was done. */
async function carryOut(r: RotatingInstance, store: Store, passwords: EnginePasswords, secret: Secret, step: RotationStep): Promise<InstancePasswordStatus | undefined> {
  if (step === "retire") return retire(r, store, passwords, secret);
  const pending = pendingPassword(secret);
  if (pending === undefined || step === "wait" || step === "done") return undefined;
  return advance(r, store, passwords, { username: secret.metadata.labels?.[LABEL_ACCOUNT] ?? "", ...pending }, step);
}

/** Take the instance one step further in every rotation of the accounts it holds; the instance as last written. */
export async function tendPasswords(r: RotatingInstance, store: Store, write: PasswordStatusWriter): Promise<Instance> {
  const passwords = r.engine.passwords;
  if (passwords === undefined) return r.instance;
  let instance = r.instance;
  for (const secret of await heldAccounts(store, instance, r.engine)) {
    const account = secret.metadata.labels?.[LABEL_ACCOUNT] ?? "";
    if (passwords.refuses(account) !== undefined) continue;
    const position = await positionOf({ ...r, instance }, store, passwords, secret);
    const step = rotationStep(position);
    if (step === "wait" || step === "done") continue;
    const confirmed = await carryOut({ ...r, instance }, store, passwords, secret, step);
    if (confirmed !== undefined) instance = await write({ passwords: { ...instance.status?.passwords, [account]: confirmed } });
  }
  return instance;
}
