/**
 * The node agent's part of managed users (DatabaseUser, ADR 0046): on a running instance that is to hold them (every
 * instance, or the primary where users replicate), create or update each user of its component as its spec says, with
 * the password(s) the instance accepts by the generations it confirmed (ADR 0038), and drop the users being deleted.
 * What it applied is recorded in `status.managedUsers` as a digest (spec, password generation, process), never a
 * password; a new digest (a changed spec, a rotation, a restart of an engine whose users are not kept) applies again.
 */
import { createHash } from "node:crypto";
import { databaseUserSecretName, databaseUserSpecDigest, type DatabaseUser, type Instance, type Secret } from "../api/index.ts";
import { errorMessage } from "../errors/index.ts";
import type { ClientTrust, Credentials, Engine, EngineUsers, InstanceContext } from "../engines/index.ts";
import type { EventRecorder } from "../controllers/runtime/index.ts";
import type { Store } from "../store/index.ts";
import { readAccount, serverCredentials } from "./accounts.ts";

/** A running instance of this node, as managed users see it. */
export interface UserHolder {
  instance: Instance;
  engine: Engine;
  context: InstanceContext;
  trust: ClientTrust;
}

/** What to do for one user on one instance (pure): apply it, drop it, forget it (another instance drops it), or nothing. */
export type UserStep = { action: "apply"; user: DatabaseUser; digest: string } | { action: "drop" | "forget"; username: string } | { action: "none" };

/** The digest recorded for `user` applied on `instance`: the spec's, then the password generation and process it applied to (pure). */
export function appliedDigest(user: DatabaseUser, instance: Instance): string {
  const generation = instance.status?.passwords?.[user.spec.username]?.generation ?? 0;
  const state = createHash("sha256").update(JSON.stringify([generation, instance.status?.processStartTicks ?? instance.status?.pid ?? 0])).digest("hex").slice(0, 8);
  return `${databaseUserSpecDigest(user)}.${state}`;
}

/** Is `instance` one that holds managed users (`scope`)? */
export function holdsUsers(instance: Instance, scope: EngineUsers["scope"]): boolean {
  return scope === "every" || instance.status?.role === "primary";
}

/** Each step for the instance (pure): live users of its component applied where not yet, users gone or being deleted dropped. */
export function userSteps(instance: Instance, users: readonly DatabaseUser[], scope: EngineUsers["scope"]): UserStep[] {
  const mine = users.filter((u) => u.spec.clusterName === instance.spec.clusterName && u.spec.componentName === instance.spec.componentName);
  const live = mine.filter((u) => u.metadata.deletionTimestamp === undefined);
  const holder = holdsUsers(instance, scope);
  const recorded = instance.status?.managedUsers ?? {};
  const steps: UserStep[] = [];
  for (const user of holder ? live : []) {
    const digest = appliedDigest(user, instance);
    if (recorded[user.spec.username] !== digest) steps.push({ action: "apply", user, digest });
  }
  const wanted = new Set(holder ? live.map((u) => u.spec.username) : []);
  for (const username of Object.keys(recorded)) {
    if (wanted.has(username)) continue;
    const stillLive = live.some((u) => u.spec.username === username);
    // A replica that was primary keeps no copy to drop: the primary's drop replicates (it only forgets its record).
    steps.push({ action: holder && !stillLive ? "drop" : "forget", username });
  }
  return steps;
}

/** Writes the instance's `status.managedUsers` and returns the instance as written. */
export type ManagedUsersWriter = (managedUsers: Record<string, string> | undefined) => Promise<Instance>;

/** The credentials the user's server is to accept, from its Secret; undefined while the controller has not made it. */
async function userCredentials(store: Store, instance: Instance, user: DatabaseUser): Promise<Credentials | undefined> {
  const secret = await store.get<Secret>({ kind: "Secret", namespace: user.metadata.namespace ?? "default", name: databaseUserSecretName(user) });
  return secret === undefined ? undefined : serverCredentials(secret, instance, user.spec.username);
}

/** Carry out one step; the new record of the user (undefined: none), or `unchanged`. */
async function carryOut(h: UserHolder, store: Store, users: EngineUsers, step: UserStep): Promise<{ username: string; record: string | undefined } | "unchanged"> {
  if (step.action === "none") return "unchanged";
  if (step.action === "forget") return { username: step.username, record: undefined };
  const admin = await readAccount(store, h.instance, h.engine.systemAccounts[0]?.name ?? "");
  if (step.action !== "apply") {
    await users.drop(h.context, admin, step.username, h.trust);
    return { username: step.username, record: undefined };
  }
  const account = await userCredentials(store, h.instance, step.user);
  if (account === undefined) return "unchanged";
  await users.apply(h.context, admin, account, step.user.spec.grants, h.trust);
  return { username: step.user.spec.username, record: step.digest };
}

/** A step that failed: an event on its DatabaseUser (on the instance when the user is gone), retried at the next pass. */
async function reportFailure(events: EventRecorder, at: { instance: Instance; users: readonly DatabaseUser[]; step: UserStep }, reason: string): Promise<void> {
  const { instance, step } = at;
  if (step.action === "none") return;
  const username = step.action === "apply" ? step.user.spec.username : step.username;
  const user = step.action === "apply" ? step.user : at.users.find((u) => u.spec.clusterName === instance.spec.clusterName && u.spec.componentName === instance.spec.componentName && u.spec.username === username);
  const verb = step.action === "apply" ? "applied" : "dropped";
  await events.record(user ?? instance, "Warning", step.action === "apply" ? "ApplyFailed" : "DropFailed", `${username} not ${verb} on ${instance.metadata.name}, retrying: ${reason}`);
}

/** Apply and drop the managed users of the instance's component; failures are events on the DatabaseUser (or the instance). */
export async function tendManagedUsers(h: UserHolder, store: Store, events: EventRecorder, write: ManagedUsersWriter): Promise<Instance> {
  const users = h.engine.users;
  if (users === undefined) return h.instance;
  const listed = await store.list<DatabaseUser>("DatabaseUser", { namespace: h.instance.metadata.namespace ?? "default" });
  let instance = h.instance;
  for (const step of userSteps(instance, listed.items, users.scope)) {
    try {
      const done = await carryOut({ ...h, instance }, store, users, step);
      if (done === "unchanged") continue;
      const { [done.username]: _old, ...others } = instance.status?.managedUsers ?? {};
      const next = done.record === undefined ? others : { ...others, [done.username]: done.record };
      instance = await write(Object.keys(next).length === 0 ? undefined : next);
    } catch (error) {
      await reportFailure(events, { instance, users: listed.items, step }, errorMessage(error));
    }
  }
  return instance;
}
