/**
 * Rules of a component's `tls` and `issuer` (ADR 0042). The shape rules are pure; a `UserProvided` issuer's Secret is
 * also read and checked when the reference is written (clientTlsSecretCauses), so a certificate that clients or the
 * node agent would refuse is refused here, naming what is wrong. The node agent checks it again before serving it.
 */
import { clientTlsOf, type Cluster, type ComponentSpec, type Node, type Secret } from "../../api/index.ts";
import type { FieldCause } from "../../errors/index.ts";
import { userCertificateNames } from "../../engines/index.ts";
import { checkUserTlsSecret } from "../../security/index.ts";
import { notFoundCause, type ObjectReference } from "./references.ts";
import type { AdmissionContext } from "./types.ts";

/** Why the component's `tls`/`issuer` cannot be served (empty when it can); `arbitrated`: its topology has arbiters (Sentinel). */
export function clientTlsCauses(cluster: Cluster, component: ComponentSpec, field: string, arbitrated = false): FieldCause[] {
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
  // Sentinel checks the instances against the cluster CA only: it would lose them if they served the user's certificate.
  if (arbitrated) {
    return [{ field: `${field}.issuer.name`, reason: "FieldValueNotSupported", message: 'Unsupported value: "UserProvided": not yet for a component watched by arbiters (Redis Sentinel), which trust the cluster CA only; use name: KubeBlocks, or a topology without Sentinel (standalone)' }];
  }
  return [];
}

/** The Secrets the components' UserProvided issuers name: writing such a reference needs `get` on the Secret (references.ts). */
export function clientTlsReferences(cluster: Cluster): ObjectReference[] {
  const namespace = cluster.metadata.namespace ?? "default";
  return cluster.spec.componentSpecs.flatMap((component, index) => {
    const tls = clientTlsOf(component);
    if (tls?.issuer !== "UserProvided") return [];
    const cause = notFoundCause(`spec.componentSpecs[${index}].issuer.secretRef.name`, `secret ${namespace}/${tls.secretName}`, `create it first with the keys ${tls.ca}, ${tls.cert} and ${tls.key}`);
    return [{ kind: "Secret", namespace, name: tls.secretName, cause }];
  });
}

/**
 * Each component whose UserProvided Secret is newly named (on create, or a changed issuer): the Secret as it is now
 * must hold a certificate the clients and the node agent accept, for loopback and every node's address. Read only
 * after the references were authorized (the pipeline checks them first), so nothing is learnt of a Secret the writer
 * may not read.
 */
export async function clientTlsSecretCauses(cluster: Cluster, old: Cluster | undefined, context: AdmissionContext): Promise<FieldCause[]> {
  const namespace = cluster.metadata.namespace ?? "default";
  const before = (name: string): string => JSON.stringify(clientTlsOf(old?.spec.componentSpecs.find((c) => c.name === name) ?? {}));
  const named = cluster.spec.componentSpecs.map((component, index) => ({ index, tls: clientTlsOf(component), name: component.name }));
  const fresh = named.filter((n) => n.tls?.issuer === "UserProvided" && before(n.name) !== JSON.stringify(n.tls));
  if (fresh.length === 0) return [];
  const names = userCertificateNames((await context.store.list<Node>("Node")).items);
  const causes: FieldCause[] = [];
  for (const { index, tls } of fresh) {
    if (tls?.issuer !== "UserProvided") continue;
    const secret = await context.store.get<Secret>({ kind: "Secret", namespace, name: tls.secretName });
    const outcome = checkUserTlsSecret(secret, tls, { namespace, names, now: new Date() });
    if ("problems" in outcome) causes.push({ field: `spec.componentSpecs[${index}].issuer.secretRef`, reason: "FieldValueInvalid", message: `Invalid value: ${outcome.problems.join("; ")}` });
  }
  return causes;
}
