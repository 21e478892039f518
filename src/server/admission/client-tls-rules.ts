/** Rules of a component's `tls` and `issuer` that the schema cannot express (pure). */
import type { Cluster, ComponentSpec } from "../../api/index.ts";
import type { FieldCause } from "../../errors/index.ts";

/** Why the component's `tls`/`issuer` cannot be served (empty when it can). */
export function clientTlsCauses(cluster: Cluster, component: ComponentSpec, field: string): FieldCause[] {
  const issuer = component.issuer;
  if (issuer === undefined) return [];
  if (component.tls !== true) {
    return [{ field: `${field}.issuer`, reason: "FieldValueForbidden", message: "Forbidden: an issuer needs tls: true; set tls: true or remove issuer" }];
  }
  if (issuer.name === "KubeBlocks") {
    return issuer.secretRef === undefined ? [] : [{ field: `${field}.issuer.secretRef`, reason: "FieldValueForbidden", message: "Forbidden: issuer KubeBlocks uses Holdfast's cluster CA; remove secretRef, or use name: UserProvided" }];
  }
  const ref = issuer.secretRef;
  if (ref === undefined) {
    return [{ field: `${field}.issuer.secretRef`, reason: "FieldValueRequired", message: "Required value: issuer UserProvided needs secretRef naming a Secret with ca.crt, tls.crt and tls.key" }];
  }
  const namespace = cluster.metadata.namespace ?? "default";
  if (ref.namespace !== undefined && ref.namespace !== "" && ref.namespace !== namespace) {
    return [{ field: `${field}.issuer.secretRef.namespace`, reason: "FieldValueForbidden", message: `Forbidden: the Secret must be in the cluster's namespace ${namespace}` }];
  }
  // The node agent serves certificates of the cluster CA only: accepting a user's Secret it would not serve is refused.
  return [{ field: `${field}.issuer.name`, reason: "FieldValueNotSupported", message: 'Unsupported value: "UserProvided": certificates from a Secret are not served yet; use name: KubeBlocks (Holdfast\'s cluster CA, see docs/security.md)' }];
}
