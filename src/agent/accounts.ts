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

/** The account Secret of `account` in `instance`'s component. */
export async function readAccountSecret(store: Store, instance: Instance, account: string): Promise<Secret | undefined> {
  const name = accountSecretName(instance.spec.clusterName, instance.spec.componentName, account);
  return store.get<Secret>({ kind: "Secret", namespace: instance.metadata.namespace ?? "default", name });
}

/** The credentials of `account` as this node agent uses them on `instance`; NotFound when its Secret is missing. */
export async function readAccount(store: Store, instance: Instance, account: string, missing = "the cluster controller creates it"): Promise<Credentials> {
  const secret = await readAccountSecret(store, instance, account);
  const password = secret === undefined ? undefined : passwordFor(secret, instance, account);
  if (password === undefined) {
    const name = accountSecretName(instance.spec.clusterName, instance.spec.componentName, account);
    throw new NotFoundError(`account secret ${name} is missing; ${missing}`, { subject: { kind: "Secret", name } });
  }
  return { username: account, password };
}

/** Credentials of every system account of the engine, administrator first. */
export async function readAccounts(store: Store, instance: Instance, engine: Engine): Promise<Credentials[]> {
  const accounts: Credentials[] = [];
  for (const account of engine.systemAccounts) accounts.push(await readAccount(store, instance, account.name));
  return accounts;
}
