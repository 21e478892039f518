/** The BackupPolicy KubeBlocks creates for each cluster component, from the engine's backup methods (pure). */
import { backupPolicyName, ROLE_LABEL, type BackupPolicy, type Cluster } from "../api/index.ts";
import type { BackupMethodDefinition } from "../engines/index.ts";

/** What the plan needs to know of one component. */
export interface PolicyComponent {
  name: string;
  methods: readonly BackupMethodDefinition[];
}

/**
 * The policy of one component: its instances (by `selector`, the component's labels), backed up from the first
 * method's role, falling back to its fallback role, into the default repository.
 */
export function desiredBackupPolicy(cluster: Cluster, component: PolicyComponent, accountSecret: string, selector: Readonly<Record<string, string>>): BackupPolicy {
  const first = component.methods[0];
  return {
    apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
    kind: "BackupPolicy",
    metadata: {
      name: backupPolicyName(cluster.metadata.name, component.name),
      ...(cluster.metadata.namespace === undefined ? {} : { namespace: cluster.metadata.namespace }),
      labels: { ...selector },
      ownerReferences: [{ apiVersion: cluster.apiVersion, kind: cluster.kind, name: cluster.metadata.name, uid: cluster.metadata.uid ?? "", controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      backoffLimit: 2,
      target: {
        podSelector: {
          matchLabels: { ...selector, ...(first === undefined ? {} : { [ROLE_LABEL]: first.targetRole }) },
          ...(first?.fallbackRole === undefined ? {} : { fallbackLabelSelector: { matchLabels: { ...selector, [ROLE_LABEL]: first.fallbackRole } } }),
          strategy: "Any",
        },
        connectionCredential: { secretName: accountSecret, usernameKey: "username", passwordKey: "password" },
      },
      backupMethods: component.methods.map((method) => ({ name: method.name, snapshotVolumes: false })),
    },
  };
}
