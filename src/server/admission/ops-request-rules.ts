/** Semantic rules of an OpsRequest. Pure: the target cluster is looked up by the caller. */
import { isDeepStrictEqual } from "node:util";
import { CANCELLABLE_OPS_TYPES, SUPPORTED_OPS_TYPES, volumeExpansionProblems, type Cluster, type OpsRequest } from "../../api/index.ts";
import type { FieldCause } from "../../errors/index.ts";
import type { EngineDirectory } from "./cluster-rules.ts";
import { reconfigureCauses } from "./parameter-rules.ts";

/** Every rule violation of an OpsRequest against its cluster (undefined when it does not exist). */
export function opsRequestCauses(ops: OpsRequest, cluster: Cluster | undefined, old?: OpsRequest, engines?: EngineDirectory): FieldCause[] {
  const cancel = cancelCauses(ops);
  if (old !== undefined) return [...cancel, ...immutableSpecCauses(ops, old)];
  const causes: FieldCause[] = [...cancel];
  if (!SUPPORTED_OPS_TYPES.includes(ops.spec.type)) {
    causes.push({ field: "spec.type", reason: "FieldValueNotSupported", message: `Unsupported value: ${JSON.stringify(ops.spec.type)}: supported types: ${SUPPORTED_OPS_TYPES.join(", ")}` });
  }
  // A Restore makes its cluster, which must not exist yet (ops-backup-rules.ts).
  if (ops.spec.type === "Restore") return causes;
  if (cluster === undefined) {
    const ns = ops.metadata.namespace ?? "default";
    causes.push({ field: "spec.clusterName", reason: "FieldValueNotFound", message: `Not found: ${JSON.stringify(ops.spec.clusterName)}: no cluster ${ops.spec.clusterName} in namespace ${ns}; create the cluster first` });
    return causes;
  }
  if (ops.spec.type === "Restart") causes.push(...restartCauses(ops, cluster));
  if (ops.spec.type === "Switchover") causes.push(...switchoverCauses(ops, cluster));
  if (ops.spec.type === "Reconfiguring" && engines !== undefined) causes.push(...reconfigureCauses(ops, cluster, engines));
  if (ops.spec.type === "Expose") causes.push(...exposeCauses(ops, cluster));
  if (ops.spec.type === "VolumeExpansion") causes.push(...volumeExpansionProblems(ops, cluster).map((p) => ({ field: p.field, reason: "FieldValueInvalid", message: `Invalid value: ${p.message}` })));
  return causes;
}

/** An Expose lists components of the cluster (whether a node has an external address is checked when it runs). */
function exposeCauses(ops: OpsRequest, cluster: Cluster): FieldCause[] {
  const components = cluster.spec.componentSpecs.map((c) => c.name);
  const expose = ops.spec.expose;
  if (expose === undefined || expose.length === 0) {
    return [{ field: "spec.expose", reason: "FieldValueRequired", message: `Required value: list the component and its services, e.g. [{componentName: ${components[0] ?? "NAME"}, switch: Enable, services: [{name: internet, roleSelector: primary}]}]` }];
  }
  return expose.flatMap((entry, i) =>
    components.includes(entry.componentName)
      ? []
      : [{ field: `spec.expose[${i}].componentName`, reason: "FieldValueNotFound", message: `Not found: ${JSON.stringify(entry.componentName)}: cluster ${cluster.metadata.name} has components: ${components.join(", ")}` }],
  );
}

/** `cancel: true` only for the types that can be cancelled. */
function cancelCauses(ops: OpsRequest): FieldCause[] {
  if (ops.spec.cancel !== true || CANCELLABLE_OPS_TYPES.includes(ops.spec.type)) return [];
  return [{ field: "spec.cancel", reason: "FieldValueForbidden", message: `Forbidden: ${ops.spec.type} cannot be cancelled (cancellable: ${CANCELLABLE_OPS_TYPES.join(", ")}); it ends by itself or after timeoutSeconds` }];
}

/** A switchover names components of the cluster and instances of those components (`<cluster>-<component>-N`). */
function switchoverCauses(ops: OpsRequest, cluster: Cluster): FieldCause[] {
  const components = cluster.spec.componentSpecs.map((c) => c.name);
  const switchover = ops.spec.switchover;
  if (switchover === undefined || switchover.length === 0) {
    return [{ field: "spec.switchover", reason: "FieldValueRequired", message: `Required value: list the component and its primary, e.g. [{componentName: ${components[0] ?? "NAME"}, instanceName: ${cluster.metadata.name}-${components[0] ?? "NAME"}-0}]` }];
  }
  return switchover.flatMap((entry, i) => {
    if (!components.includes(entry.componentName)) {
      return [{ field: `spec.switchover[${i}].componentName`, reason: "FieldValueNotFound", message: `Not found: ${JSON.stringify(entry.componentName)}: cluster ${cluster.metadata.name} has components: ${components.join(", ")}` }];
    }
    const prefix = `${cluster.metadata.name}-${entry.componentName}-`;
    const named = [["instanceName", entry.instanceName], ["candidateName", entry.candidateName]] as const;
    return named.flatMap(([key, value]): FieldCause[] =>
      value === undefined || /^\d+$/.test(value.slice(prefix.length)) && value.startsWith(prefix)
        ? []
        : [{ field: `spec.switchover[${i}].${key}`, reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(value)}: must name an instance of component ${entry.componentName}, such as ${prefix}0` }],
    );
  });
}

function restartCauses(ops: OpsRequest, cluster: Cluster): FieldCause[] {
  const components = cluster.spec.componentSpecs.map((c) => c.name);
  const restart = ops.spec.restart;
  if (restart === undefined || restart.length === 0) {
    return [{ field: "spec.restart", reason: "FieldValueRequired", message: `Required value: list the components to restart, e.g. [{componentName: ${components[0] ?? "NAME"}}]` }];
  }
  const causes: FieldCause[] = [];
  restart.forEach((entry, i) => {
    if (!components.includes(entry.componentName)) {
      causes.push({ field: `spec.restart[${i}].componentName`, reason: "FieldValueNotFound", message: `Not found: ${JSON.stringify(entry.componentName)}: cluster ${cluster.metadata.name} has components: ${components.join(", ")}` });
    }
  });
  return causes;
}

/** After creation only `spec.cancel` may change: an operation in flight must not change under its state machine. */
function immutableSpecCauses(ops: OpsRequest, old: OpsRequest): FieldCause[] {
  const { cancel: _newCancel, ...next } = ops.spec;
  const { cancel: _oldCancel, ...previous } = old.spec;
  if (isDeepStrictEqual(next, previous)) return [];
  return [{ field: "spec", reason: "FieldValueForbidden", message: "Forbidden: an OpsRequest's spec is immutable after creation except spec.cancel; create a new OpsRequest instead" }];
}
