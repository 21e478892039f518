/** Writes of what the ha controller reports on an instance: its role label and its replication status. */
import type { Instance, InstanceReplicationStatus, ObjectRef } from "../../api/index.ts";
import type { Store } from "../../store/index.ts";
import { LABEL_ROLE } from "../cluster/index.ts";
import { patchObject, patchStatus } from "./patch.ts";

/** Set (or, for undefined, remove) the `kubeblocks.io/role` label. */
export async function writeRoleLabel(store: Store, ref: ObjectRef, role: string | undefined): Promise<void> {
  await patchObject<Instance>(store, ref, (current) => {
    if (current.metadata.labels?.[LABEL_ROLE] === role) return undefined;
    const others = Object.entries(current.metadata.labels ?? {}).filter(([key]) => key !== LABEL_ROLE);
    const labels = Object.fromEntries(role === undefined ? others : [...others, [LABEL_ROLE, role]]);
    return { ...current, metadata: { ...current.metadata, labels } };
  });
}

/** Set (or remove) `status.replication`. */
export async function writeReplicationStatus(store: Store, ref: ObjectRef, replication: InstanceReplicationStatus | undefined): Promise<void> {
  await patchStatus<Instance>(store, ref, (current) => {
    const { replication: _previous, ...rest } = current.status ?? {};
    return { ...current, status: replication === undefined ? rest : { ...rest, replication } };
  });
}
