/** Where a DatabaseUser stands, from the instances of its component (pure; ADR 0046). */
import { databaseUserSpecDigest, type DatabaseUser, type DatabaseUserStatus, type Instance } from "../../api/index.ts";

/** Where the engine applies managed users: the primary alone (its users replicate) or every instance. */
export type UserScope = "primary" | "every";

/** The instances of the user's component that are to have it: running ones, by the engine's scope. */
export function holdersOf(user: DatabaseUser, instances: readonly Instance[], scope: UserScope): Instance[] {
  return instances.filter(
    (i) =>
      i.spec.clusterName === user.spec.clusterName &&
      i.spec.componentName === user.spec.componentName &&
      i.metadata.deletionTimestamp === undefined &&
      i.status?.ready === true &&
      (scope === "every" || i.status.role === "primary"),
  );
}

/** Has `instance` applied the user as its spec now asks (the digest the node agent recorded starts with the spec's)? */
export function appliedOn(instance: Instance, user: DatabaseUser): boolean {
  return instance.status?.managedUsers?.[user.spec.username]?.startsWith(`${databaseUserSpecDigest(user)}.`) === true;
}

/** The status of a live DatabaseUser (pure). */
export function userStatus(user: DatabaseUser, instances: readonly Instance[], scope: UserScope, secretName: string): DatabaseUserStatus {
  const holders = holdersOf(user, instances, scope);
  const applied = holders.filter((i) => appliedOn(i, user)).map((i) => i.metadata.name);
  const generation = user.metadata.generation === undefined ? {} : { observedGeneration: user.metadata.generation };
  const base = { ...generation, secretName, appliedOn: applied };
  if (holders.length === 0) return { ...base, phase: "Pending", message: `no running ${scope === "primary" ? "primary" : "instance"} of component ${user.spec.componentName} yet: applied when one runs` };
  const waiting = holders.filter((i) => !applied.includes(i.metadata.name)).map((i) => i.metadata.name);
  if (waiting.length > 0) return { ...base, phase: "Pending", message: `being applied on ${waiting.join(", ")}` };
  return { ...base, phase: "Ready", message: `${user.spec.username} has its grants on ${applied.join(", ")}` };
}

/** The instances that still hold a user being deleted (they drop it), and which of them are not running (they wait). */
export function remainingHolders(user: DatabaseUser, instances: readonly Instance[]): { holding: string[]; stopped: string[] } {
  const holding = instances.filter((i) => i.spec.clusterName === user.spec.clusterName && i.spec.componentName === user.spec.componentName && i.status?.managedUsers?.[user.spec.username] !== undefined);
  return { holding: holding.map((i) => i.metadata.name), stopped: holding.filter((i) => i.status?.ready !== true).map((i) => i.metadata.name) };
}
