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

/** The passwords `instance` accepts for `account`: the one in effect, and during a rotation the next once it accepts it. */
export function acceptedPasswords(secret: Secret, instance: Instance, account: string): string[] {
  const current = secretValue(secret, "password");
  const pending = pendingPassword(secret);
  const accepted = instance.status?.passwords?.[account]?.generation ?? -1;
  const next = pending !== undefined && accepted >= pending.generation ? [pending.password] : [];
  return [...(current === undefined ? [] : [current]), ...next];
}

/**
 * The credentials of `account` for `instance`'s configuration: its own connections log in with the next password once
 * every server of the account accepts it (status `connectsWith`), else with the one in effect; the server accepts the
 * others it accepts (ADR 0038), so a restart during a rotation keeps them all.
 */
export function configuredCredentials(secret: Secret, instance: Instance, account: string): Credentials | undefined {
  const pending = pendingPassword(secret);
  const connects = instance.status?.passwords?.[account]?.connectsWith ?? -1;
  const password = pending !== undefined && connects >= pending.generation ? pending.password : secretValue(secret, "password");
  if (password === undefined) return undefined;
  const others = acceptedPasswords(secret, instance, account).filter((p) => p !== password);
  return { username: account, password, ...(others.length === 0 ? {} : { otherPasswords: others }) };
}

/** The account Secret of `account` in `instance`'s component. */
export async function readAccountSecret(store: Store, instance: Instance, account: string): Promise<Secret | undefined> {
  const name = accountSecretName(instance.spec.clusterName, instance.spec.componentName, account);
  return store.get<Secret>({ kind: "Secret", namespace: instance.metadata.namespace ?? "default", name });
}

/** The credentials of `account` as this node agent uses them on `instance`; NotFound when its Secret is missing. */
export async function readAccount(store: Store, instance: Instance, account: string, missing = "the cluster controller creates it"): Promise<Credentials> {
  const secret = await readAccountSecret(store, instance, account);
  const password = secret === undefined ? undefined : passwordFor(secret, instance, account);
  if (secret === undefined || password === undefined) {
    const name = accountSecretName(instance.spec.clusterName, instance.spec.componentName, account);
    throw new NotFoundError(`account secret ${name} is missing; ${missing}`, { subject: { kind: "Secret", name } });
  }
  const others = acceptedPasswords(secret, instance, account).filter((p) => p !== password);
  return { username: account, password, ...(others.length === 0 ? {} : { otherPasswords: others }) };
}

/** Credentials of every system account of the engine, administrator first. */
export async function readAccounts(store: Store, instance: Instance, engine: Engine): Promise<Credentials[]> {
  const accounts: Credentials[] = [];
  for (const account of engine.systemAccounts) accounts.push(await readAccount(store, instance, account.name));
  return accounts;
}
