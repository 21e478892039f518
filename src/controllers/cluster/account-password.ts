/**
 * The first password of a system account's Secret (ADR 0052): the one in the user's Secret that the component's
 * `systemAccounts[].secretRef` names (held to the password policy), one generated under its `passwordConfig`, or one
 * generated under the default policy. Never logged or put in an error.
 */
import { secretRefPasswordKey, secretValue, type Cluster, type ComponentSystemAccount, type Secret } from "../../api/index.ts";
import { UnavailableError } from "../../errors/index.ts";
import { generatePassword, generatePasswordWith, passwordPolicyProblem } from "../../engines/index.ts";
import type { Store } from "../../store/index.ts";

/** What the component says of `account`, when it says anything. */
export function systemAccountOf(cluster: Cluster, component: string, account: string): ComponentSystemAccount | undefined {
  return cluster.spec.componentSpecs.find((c) => c.name === component)?.systemAccounts?.find((a) => a.name === account);
}

/**
 * The password `account`'s new Secret starts with. UnavailableError (the reconcile is retried, the message shown)
 * while the named Secret or its key is missing, or its password does not meet the policy.
 */
export async function initialAccountPassword(store: Store, cluster: Cluster, component: string, account: string): Promise<string> {
  const wanted = systemAccountOf(cluster, component, account);
  if (wanted?.secretRef !== undefined) {
    const namespace = cluster.metadata.namespace ?? "default";
    const { name } = wanted.secretRef;
    const key = secretRefPasswordKey(wanted.secretRef);
    const secret = await store.get<Secret>({ kind: "Secret", namespace, name });
    const given = secretValue(secret, key);
    const where = `account ${account} of ${cluster.metadata.name}/${component}: secret ${namespace}/${name}`;
    if (given === undefined) throw new UnavailableError(`${where} ${secret === undefined ? "does not exist" : `has no key ${key}`}; create it, and the account is made with its password`);
    const problem = passwordPolicyProblem(given);
    if (problem !== undefined) throw new UnavailableError(`${where}: the password under key ${key} ${problem}; change it in the Secret`);
    return given;
  }
  return wanted?.passwordConfig === undefined ? generatePassword() : generatePasswordWith(wanted.passwordConfig);
}
