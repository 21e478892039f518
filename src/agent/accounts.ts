/** Reads the system accounts' credentials of an instance from their (encrypted-at-rest) Secrets. */
import { accountSecretName, type Instance, type Secret } from "../api/index.ts";
import { NotFoundError } from "../errors/index.ts";
import type { Credentials, Engine } from "../engines/index.ts";
import type { Store } from "../store/index.ts";

/** Credentials of every system account of the engine, administrator first. */
export async function readAccounts(store: Store, instance: Instance, engine: Engine): Promise<Credentials[]> {
  const accounts: Credentials[] = [];
  for (const account of engine.systemAccounts) {
    const name = accountSecretName(instance.spec.clusterName, instance.spec.componentName, account.name);
    const secret = await store.get<Secret>({ kind: "Secret", namespace: instance.metadata.namespace ?? "default", name });
    const password = secret?.data?.["password"];
    if (password === undefined) throw new NotFoundError(`account secret ${name} is missing; the cluster controller creates it`, { subject: { kind: "Secret", name } });
    accounts.push({ username: account.name, password: Buffer.from(password, "base64").toString("utf8") });
  }
  return accounts;
}
