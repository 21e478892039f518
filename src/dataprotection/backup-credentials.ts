/** The database account a backup connects as: the Secret named by its BackupPolicy's target.connectionCredential. */
import type { BackupPolicy, Secret } from "../api/index.ts";
import type { Credentials } from "../engines/index.ts";
import type { Store } from "../store/index.ts";

/** The account, or why the policy does not give one (which fails the backup). */
export async function backupCredentials(store: Store, policy: BackupPolicy, namespace: string): Promise<Credentials | { problem: string }> {
  const credential = policy.spec.target?.connectionCredential;
  if (credential === undefined) return { problem: `BackupPolicy ${policy.metadata.name} has no target.connectionCredential` };
  const secret = await store.get<Secret>({ kind: "Secret", namespace, name: credential.secretName });
  const read = (key: string): string | undefined => {
    const value = secret?.data?.[key];
    return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
  };
  const username = read(credential.usernameKey);
  const password = read(credential.passwordKey);
  if (username === undefined || password === undefined) return { problem: `Secret ${credential.secretName} in namespace ${namespace} lacks ${credential.usernameKey} or ${credential.passwordKey}` };
  return { username, password };
}
