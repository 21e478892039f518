/**
 * Rules of `componentSpecs[].systemAccounts` (ADR 0052) a schema cannot express: only the engine's administrator
 * accounts, each once; a password Secret in the cluster's own namespace; one source of the password; a policy that
 * leaves room for letters; and no change once the cluster exists (the account's Secret is made once:
 * `holdfast cluster rotate-password` changes a password later). Pure.
 */
import { secretRefPasswordKey, type Cluster, type ComponentSpec } from "../../api/index.ts";
import type { FieldCause } from "../../errors/index.ts";
import { passwordPolicyConflict, type Engine } from "../../engines/index.ts";
import { notFoundCause, type ObjectReference } from "./references.ts";

/** The causes of one component's systemAccounts (`field` is the component's path). */
export function systemAccountCauses(cluster: Cluster, component: ComponentSpec, field: string, engine: Engine): FieldCause[] {
  const accounts = component.systemAccounts ?? [];
  // The administrator is the engine's first system account; the others (e.g. MariaDB's backup account) are Holdfast's own.
  const allowed = engine.systemAccounts.slice(0, 1).map((a) => a.name);
  const namespace = cluster.metadata.namespace ?? "default";
  const seen = new Set<string>();
  return accounts.flatMap((account, index) => {
    const at = `${field}.systemAccounts[${index}]`;
    const causes: FieldCause[] = [];
    if (!allowed.includes(account.name)) {
      const supported = allowed.map((name) => JSON.stringify(name)).join(", ");
      causes.push({ field: `${at}.name`, reason: "FieldValueNotSupported", message: `Unsupported value: ${JSON.stringify(account.name)}: supported values: ${supported} (${engine.name}'s administrator; the replication, monitoring and backup accounts are Holdfast's own, generated and rotated by it)` });
    }
    if (seen.has(account.name)) causes.push({ field: `${at}.name`, reason: "FieldValueDuplicate", message: `Duplicate value: ${JSON.stringify(account.name)}` });
    seen.add(account.name);
    const ref = account.secretRef;
    if (ref?.namespace !== undefined && ref.namespace !== namespace) {
      causes.push({ field: `${at}.secretRef.namespace`, reason: "FieldValueForbidden", message: `Forbidden: the Secret must be in the cluster's namespace ${JSON.stringify(namespace)}: a cluster does not read another namespace's Secrets` });
    }
    if (ref !== undefined && account.passwordConfig !== undefined) {
      causes.push({ field: `${at}.passwordConfig`, reason: "FieldValueForbidden", message: "Forbidden: give secretRef (the password is the Secret's) or passwordConfig (a password is generated), not both" });
    }
    const conflict = account.passwordConfig === undefined ? undefined : passwordPolicyConflict(account.passwordConfig);
    if (conflict !== undefined) causes.push({ field: `${at}.passwordConfig`, reason: "FieldValueInvalid", message: `Invalid value: ${conflict}` });
    return causes;
  });
}

/** A change of systemAccounts on an existing cluster: refused, since the passwords were set when its Secrets were made. */
export function systemAccountChangeCauses(cluster: Cluster, old: Cluster): FieldCause[] {
  return cluster.spec.componentSpecs.flatMap((component, index) => {
    const before = old.spec.componentSpecs.find((c) => c.name === component.name);
    if (before === undefined || JSON.stringify(before.systemAccounts ?? []) === JSON.stringify(component.systemAccounts ?? [])) return [];
    const clusterName = cluster.metadata.name;
    return [{ field: `spec.componentSpecs[${index}].systemAccounts`, reason: "FieldValueForbidden", message: `Forbidden: field is immutable once the cluster exists (its account passwords are set); change a password with holdfast cluster rotate-password ${clusterName} --account NAME` }];
  });
}

/** The Secrets the systemAccounts name: writing such a reference needs `get` on the Secret (references.ts). */
export function systemAccountReferences(cluster: Cluster): ObjectReference[] {
  const namespace = cluster.metadata.namespace ?? "default";
  return cluster.spec.componentSpecs.flatMap((component, c) =>
    (component.systemAccounts ?? []).flatMap((account, a) => {
      const ref = account.secretRef;
      if (ref === undefined) return [];
      const what = `secret ${namespace}/${ref.name}`;
      return [{ kind: "Secret", namespace, name: ref.name, cause: notFoundCause(`spec.componentSpecs[${c}].systemAccounts[${a}].secretRef.name`, what, `create it first with the password under the key ${JSON.stringify(secretRefPasswordKey(ref))}`) }];
    }),
  );
}
