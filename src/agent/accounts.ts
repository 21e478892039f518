/** Reads the system accounts' credentials of an instance from their (encrypted-at-rest) Secrets. */
import { accountSecretName, pendingPassword, secretValue, type Instance, type Secret } from "../api/index.ts";
import { NotFoundError } from "../errors/index.ts";
import type { Credentials, Engine } from "../engines/index.ts";
import type { Store } from "../store/index.ts";

/**
 * The password this node agent logs in to `instance` with: during a rotation (ADR 0038) the next one once the
 * instance accepts it (its status says so, by generation), else the one in effect.
 */
export function passwordFor(secret: Secret, instance: Instance, account: string): string | undefined {
  const pending = pendingPassword(secret);
  const accepted = instance.status?.passwords?.[account]?.generation ?? -1;
  return pending !== undefined && accepted >= pending.generation ? pending.password : secretValue(secret, "password");
}

/**
 * The credentials of `account` on `instance` by the generations it confirmed (ADR 0038): the password in effect; during
 * a rotation, once the instance accepts the next one, both — the next one to log in with when `withNext` says so, the
 * other as one more the server accepts (so a restart in the middle keeps them both).
 */
function credentialsOf(secret: Secret, instance: Instance, account: string, withNext: (generation: number) => boolean): Credentials | undefined {
  const current = secretValue(secret, "password");
  const pending = pendingPassword(secret);
  const accepted = instance.status?.passwords?.[account]?.generation ?? -1;
  if (current === undefined) return undefined;
  if (pending === undefined || accepted < pending.generation) return { username: account, password: current };
  if (withNext(pending.generation)) return { username: account, password: pending.password, otherPasswords: [current] };
  return { username: account, password: current, otherPasswords: [pending.password] };
}

/**
 * The credentials of `account` for `instance`'s configuration: its own connections log in with the next password once
 * every server of the account accepts it (status `connectsWith`), else with the one in effect; the server accepts both
 * once it accepts the next.
 */
export function configuredCredentials(secret: Secret, instance: Instance, account: string): Credentials | undefined {
  const connects = instance.status?.passwords?.[account]?.connectsWith ?? -1;
  return credentialsOf(secret, instance, account, (generation) => connects >= generation);
}

/**
 * The passwords the server of `instance` is to accept for `account` by the generations it confirmed: the one in
 * effect; during a rotation, once it accepts the next one, that one first and the other beside it (for engines whose
 * users hold several, ADR 0038).
 */
export function serverCredentials(secret: Secret, instance: Instance, account: string): Credentials | undefined {
  return credentialsOf(secret, instance, account, () => true);
}

/** The account Secret of `account` in `instance`'s component. */
export async function readAccountSecret(store: Store, instance: Instance, account: string): Promise<Secret | undefined> {
  const name = accountSecretName(instance.spec.clusterName, instance.spec.componentName, account);
  return store.get<Secret>({ kind: "Secret", namespace: instance.metadata.namespace ?? "default", name });
}

/** The credentials of `account` as this node agent uses them on `instance`; NotFound when its Secret is missing. */
export async function readAccount(store: Store, instance: Instance, account: string, missing = "the cluster controller creates it"): Promise<Credentials> {
  const secret = await readAccountSecret(store, instance, account);
  // The agent logs in with the next password as soon as its instance accepts it (passwordFor).
  const credentials = secret === undefined ? undefined : credentialsOf(secret, instance, account, () => true);
  if (credentials === undefined) {
    const name = accountSecretName(instance.spec.clusterName, instance.spec.componentName, account);
    throw new NotFoundError(`account secret ${name} is missing; ${missing}`, { subject: { kind: "Secret", name } });
  }
  return credentials;
}

/** Credentials of every system account of the engine, administrator first. */
export async function readAccounts(store: Store, instance: Instance, engine: Engine): Promise<Credentials[]> {
  const accounts: Credentials[] = [];
  for (const account of engine.systemAccounts) accounts.push(await readAccount(store, instance, account.name));
  return accounts;
}
