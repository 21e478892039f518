/**
 * The node agent's part of an online password rotation (ADR 0038): on an instance that is to accept the next password
 * of an account (every instance, or the primary alone where accounts replicate), change it on the running server;
 * then make the instance's own connections use it, and confirm in status by generation (never the value). The
 * cluster controller makes the next password the one in effect once every running instance has confirmed.
 */
import { pendingPassword, secretValue, type Instance, type InstanceStatus, type Secret } from "../api/index.ts";
import type { ClientTrust, Credentials, Engine, EnginePasswords, HostAccess, InstanceContext } from "../engines/index.ts";
import { LABEL_ACCOUNT, LABEL_COMPONENT, LABEL_INSTANCE } from "../controllers/cluster/index.ts";
import type { Store } from "../store/index.ts";
import { passwordFor, readAccountSecret } from "./accounts.ts";

/** A running instance of this node, as the rotation step sees it. */
export interface RotatingInstance {
  instance: Instance;
  engine: Engine;
  context: InstanceContext;
  host: HostAccess;
  trust: ClientTrust;
}

/** What an instance does next for an account whose rotation is under way. */
export type RotationStep = "change" | "follow" | "wait" | "done";

/** Where the instance stands in one account's rotation. */
export interface RotationPosition {
  scope: EnginePasswords["scope"];
  /** The generation the instance accepts (-1: none recorded). */
  accepted: number;
  /** The generation being rotated to. */
  generation: number;
  isPrimary: boolean;
  /** Does the component's primary accept `generation` (it changed it, and the change replicates)? */
  primaryAccepts: boolean;
}

/**
 * An instance that does not accept the next generation changes it where the engine changes passwords (`every`, or the
 * primary); a replica of an engine whose accounts replicate follows once its primary has confirmed (pure).
 */
export function rotationStep(p: RotationPosition): RotationStep {
  if (p.accepted >= p.generation) return "done";
  if (p.scope === "every" || p.isPrimary) return "change";
  return p.primaryAccepts ? "follow" : "wait";
}

/** The account Secrets of `instance`'s component that have a rotation under way. */
export async function pendingAccounts(store: Store, instance: Instance): Promise<Secret[]> {
  const { clusterName, componentName } = instance.spec;
  const selector = `${LABEL_INSTANCE}=${clusterName},${LABEL_COMPONENT}=${componentName}`;
  const secrets = await store.list<Secret>("Secret", { namespace: instance.metadata.namespace ?? "default", labelSelector: selector });
  return secrets.items.filter((secret) => secret.metadata.labels?.[LABEL_ACCOUNT] !== undefined && pendingPassword(secret) !== undefined);
}

/** Is a rotation under way in `instance`'s component (a new copy of its data then waits: it would set old passwords)? */
export async function rotationUnderWay(store: Store, instance: Instance): Promise<boolean> {
  return (await pendingAccounts(store, instance)).length > 0;
}

async function primaryAccepts(store: Store, instance: Instance, account: string, generation: number): Promise<boolean> {
  const { clusterName, componentName } = instance.spec;
  const list = await store.list<Instance>("Instance", { namespace: instance.metadata.namespace ?? "default", labelSelector: `${LABEL_INSTANCE}=${clusterName}` });
  const primary = list.items.find((i) => i.spec.componentName === componentName && i.status?.role === "primary");
  return (primary?.status?.passwords?.[account]?.generation ?? -1) >= generation;
}

/**
 * Change `next` on the server as the administrator: with the password this agent uses, else the administrator's other
 * one (the administrator's own rotation, changed before a crash kept this agent from confirming it).
 */
async function changeAsAdmin(r: RotatingInstance, store: Store, passwords: EnginePasswords, next: Credentials): Promise<void> {
  const adminName = r.engine.systemAccounts[0]?.name ?? "";
  const secret = await readAccountSecret(store, r.instance, adminName);
  const candidates = secret === undefined ? [] : [passwordFor(secret, r.instance, adminName), secretValue(secret, "password"), pendingPassword(secret)?.password];
  let failure: unknown = new Error(`the administrator's account secret of ${r.instance.metadata.name} is missing`);
  for (const password of new Set(candidates.filter((p): p is string => p !== undefined))) {
    try {
      await passwords.change(r.context, { username: adminName, password }, next, r.trust);
      return;
    } catch (error) {
      failure = error;
    }
  }
  throw failure;
}

/** Writes status changes of the instance and returns it as written. */
export type PasswordStatusWriter = (changes: Pick<InstanceStatus, "passwords">) => Promise<Instance>;

/** Take the instance one step further in every rotation under way in its component; the instance as last written. */
export async function tendPasswords(r: RotatingInstance, store: Store, write: PasswordStatusWriter): Promise<Instance> {
  const passwords = r.engine.passwords;
  if (passwords === undefined) return r.instance;
  let instance = r.instance;
  for (const secret of await pendingAccounts(store, instance)) {
    const account = secret.metadata.labels?.[LABEL_ACCOUNT] ?? "";
    const pending = pendingPassword(secret);
    if (pending === undefined || passwords.refuses(account) !== undefined) continue;
    const isPrimary = instance.status?.role === "primary";
    const position = { scope: passwords.scope, accepted: instance.status?.passwords?.[account]?.generation ?? -1, generation: pending.generation, isPrimary, primaryAccepts: false };
    if (passwords.scope === "primary" && !isPrimary) position.primaryAccepts = await primaryAccepts(store, instance, account, pending.generation);
    const step = rotationStep(position);
    if (step === "wait" || step === "done") continue;
    const next = { username: account, password: pending.password };
    if (step === "change") await changeAsAdmin({ ...r, instance }, store, passwords, next);
    await passwords.useForOwnConnections?.(r.context, next, r.host);
    instance = await write({ passwords: { ...instance.status?.passwords, [account]: { generation: pending.generation } } });
  }
  return instance;
}
