/** The built-in admitters, one per kind; adding a kind's rules means adding an entry here, not touching the router. */
import {
  clusterRoleBindingSchema,
  DETECTION_NAMESPACE,
  clusterRoleSchema,
  clusterSchema,
  databaseSchema,
  databaseUserSchema,
  namespaceSchema,
  opsDefinitionSchema,
  opsRequestSchema,
  podMonitorSchema,
  prometheusRuleObjectSchema,
  serviceMonitorSchema,
  roleBindingSchema,
  roleRefUpdateCauses,
  roleSchema,
  secretSchema,
  type Cluster,
  type Database,
  type DatabaseUser,
  type OpsDefinition,
  type OpsRequest,
  type Resource,
  type RoleRef,
} from "../../api/index.ts";
import { ForbiddenError, type FieldCause } from "../../errors/index.ts";
import { checkEscalation, type RbacObject, type Requester } from "../../security/index.ts";
import { dataProtectionAdmitters, restoreCausesOf } from "./backup-admitters.ts";
import { detectionAdmitters } from "./detection-admitters.ts";
import { clusterRestoreReferences } from "./backup-references.ts";
import { clusterCauses } from "./cluster-rules.ts";
import { clientTlsReferences, clientTlsSecretCauses } from "./client-tls-rules.ts";
import { configsCauses } from "./parameter-rules.ts";
import { databaseUserWriteCauses } from "./database-user-rules.ts";
import { databaseWriteCauses } from "./database-rules.ts";
import { notFoundCause } from "./references.ts";
import { systemAccountReferences } from "./system-account-rules.ts";
import { opsRequestCauses } from "./ops-request-rules.ts";
import { customOpsCauses } from "./custom-ops-rules.ts";
import { opsDefinitionCauses } from "./ops-definition-rules.ts";
import { restoreKindAdmitter } from "./restore-kind-rules.ts";
import { checkOpsCreator, opsDataProtectionCauses, opsDataProtectionReferences } from "./ops-backup-rules.ts";
import { foldStringData, immutableSecretCauses } from "./secret-normalize.ts";
import type { AdmissionContext, AdmitterRegistry, KindAdmitter } from "./types.ts";
import type { EngineVersion } from "../../engines/index.ts";

const clusterAdmitter: KindAdmitter = {
  schema: clusterSchema,
  references: (object) => [...clusterRestoreReferences(object as Cluster), ...systemAccountReferences(object as Cluster), ...clientTlsReferences(object as Cluster)],
  async validate(object, old, context) {
    const cluster = object as Cluster;
    if (old === undefined) return clusterCreateCauses(cluster, context);
    const installed = await installedVersions(context);
    return [...clusterCauses({ cluster, old: old as Cluster, engines: context.engines, installed }), ...configsCauses(cluster, context.engines), ...(await clientTlsSecretCauses(cluster, old as Cluster, context))];
  },
  validateDelete(object) {
    const cluster = object as Cluster;
    if (cluster.spec.terminationPolicy === "DoNotTerminate") {
      const id = `${cluster.metadata.namespace ?? ""}/${cluster.metadata.name}`;
      return Promise.reject(
        new ForbiddenError(
          `cluster ${id} has terminationPolicy DoNotTerminate and cannot be deleted; set spec.terminationPolicy to Delete or WipeOut first (holdfast apply, or PATCH)`,
          { subject: { kind: "Cluster", name: cluster.metadata.name, group: "apps.kubeblocks.io" } },
        ),
      );
    }
    return Promise.resolve();
  },
};

/** Every cause against creating `cluster` (also used for the cluster a Restore OpsRequest would create). */
async function clusterCreateCauses(cluster: Cluster, context: AdmissionContext): Promise<FieldCause[]> {
  const installed = await installedVersions(context);
  return [...clusterCauses({ cluster, engines: context.engines, installed }), ...configsCauses(cluster, context.engines), ...(await restoreCausesOf(cluster, context)), ...(await clientTlsSecretCauses(cluster, undefined, context))];
}

/** Every engine's installed versions (cached by the catalog): a refusal lists them all. */
async function installedVersions(context: AdmissionContext): Promise<Map<string, readonly EngineVersion[]>> {
  const names = context.engines.list().map((e) => e.name);
  const lists = await Promise.all(names.map((name) => context.engines.versions(name)));
  return new Map(names.map((name, i) => [name, lists[i] ?? []]));
}

const opsRequestAdmitter: KindAdmitter = {
  schema: opsRequestSchema,
  references: (object) => opsDataProtectionReferences(object as OpsRequest),
  async validate(object, old, context) {
    const ops = object as OpsRequest;
    const ref = { kind: "Cluster", namespace: ops.metadata.namespace, name: ops.spec.clusterName };
    const cluster = old === undefined ? await context.store.get<Cluster>(ref) : undefined;
    const causes = opsRequestCauses(ops, cluster, old as OpsRequest | undefined, context.engines);
    if (old !== undefined) return causes;
    return [...causes, ...(await customCauses(ops, cluster, context)), ...(await opsDataProtectionCauses(ops, cluster, context, clusterCreateCauses))];
  },
  checkRequester: (object, requester, context) => checkOpsCreator(object as OpsRequest, requester, context),
};

/** A Custom OpsRequest's items against its OpsDefinition (ADR 0054); nothing for other types or a missing cluster. */
async function customCauses(ops: OpsRequest, cluster: Cluster | undefined, context: AdmissionContext): Promise<FieldCause[]> {
  if (ops.spec.type !== "Custom" || cluster === undefined) return [];
  const name = ops.spec.custom?.opsDefinitionName;
  const definition = name === undefined ? undefined : await context.store.get<OpsDefinition>({ kind: "OpsDefinition", name });
  return customOpsCauses(ops, cluster, definition, context.engines);
}

/** OpsDefinition (ADR 0054): cluster-scoped, written by cluster administrators (RBAC); its actions on an engine's allow-list. */
const opsDefinitionAdmitter: KindAdmitter = {
  schema: opsDefinitionSchema,
  validate: (object, _old, context) => Promise.resolve(opsDefinitionCauses(object as OpsDefinition, context.engines)),
};

const secretAdmitter: KindAdmitter = {
  sensitive: true,
  schema: secretSchema,
  normalize: (object) => foldStringData(object),
  validate: (object, old) => Promise.resolve(immutableSecretCauses(object, old)),
};

/** DatabaseUser (ADR 0046): its cluster and user-given password Secret are read on the writer's behalf. */
const databaseUserAdmitter: KindAdmitter = {
  schema: databaseUserSchema,
  references: (object) => {
    const user = object as DatabaseUser;
    const namespace = user.metadata.namespace ?? "default";
    const cluster = { kind: "Cluster", namespace, name: user.spec.clusterName, cause: notFoundCause("spec.clusterName", `cluster ${namespace}/${user.spec.clusterName}`, "create the cluster first (holdfast get clusters)") };
    const ref = user.spec.passwordSecretRef;
    if (ref === undefined) return [cluster];
    return [cluster, { kind: "Secret", namespace, name: ref.name, cause: notFoundCause("spec.passwordSecretRef.name", `secret ${namespace}/${ref.name}`, "create it first, or leave passwordSecretRef out to have a password generated") }];
  },
  validate: (object, old, context) => databaseUserWriteCauses(object as DatabaseUser, old as DatabaseUser | undefined, context),
};

/** Database (ADR 0053): its cluster is read on the writer's behalf; the owner among the namespace's DatabaseUsers. */
const databaseAdmitter: KindAdmitter = {
  schema: databaseSchema,
  references: (object) => {
    const database = object as Database;
    const namespace = database.metadata.namespace ?? "default";
    return [{ kind: "Cluster", namespace, name: database.spec.clusterName, cause: notFoundCause("spec.clusterName", `cluster ${namespace}/${database.spec.clusterName}`, "create the cluster first (holdfast get clusters)") }];
  },
  validate: (object, old, context) => databaseWriteCauses(object as Database, old as Database | undefined, context),
};

const namespaceAdmitter: KindAdmitter = {
  schema: namespaceSchema,
  validateDelete(object: Resource) {
    const name = object.metadata.name;
    if (name !== "default" && name !== DETECTION_NAMESPACE) return Promise.resolve();
    return Promise.reject(new ForbiddenError(`namespace ${name} cannot be deleted; delete the objects in it instead`, { subject: { kind: "Namespace", name } }));
  },
};

/** Nobody writes a role or binding that grants more than they hold (unless granted escalate/bind), as in Kubernetes. */
function noEscalation(object: Resource, requester: Requester, context: AdmissionContext): Promise<void> {
  return checkEscalation(context.authorizer, requester, object as RbacObject, object.metadata.namespace);
}

function roleAdmitter(schema: NonNullable<KindAdmitter["schema"]>): KindAdmitter {
  return { schema, checkRequester: noEscalation };
}

/** Bindings: schema-checked, and roleRef cannot change (as in Kubernetes: delete and recreate instead). */
function bindingAdmitter(schema: NonNullable<KindAdmitter["schema"]>): KindAdmitter {
  return {
    schema,
    validate: (object, old) => Promise.resolve(roleRefUpdateCauses(object as unknown as { roleRef: RoleRef }, old as unknown as { roleRef: RoleRef } | undefined)),
    checkRequester: noEscalation,
  };
}

const CONTROL_PLANE_ONLY = "are written by the Holdfast control plane only; read them with GET";

/** Admitters for every kind Holdfast serves. */
export function defaultAdmitters(): AdmitterRegistry {
  return new Map<string, KindAdmitter>([
    ["Cluster", clusterAdmitter],
    ["OpsRequest", opsRequestAdmitter],
    ["OpsDefinition", opsDefinitionAdmitter],
    ["Secret", secretAdmitter],
    ["Namespace", namespaceAdmitter],
    ["DatabaseUser", databaseUserAdmitter],
    ["Database", databaseAdmitter],
    ["Instance", { readOnly: `instances ${CONTROL_PLANE_ONLY}` }],
    ["Event", { readOnly: `events ${CONTROL_PLANE_ONLY}` }],
    ["Lease", { readOnly: `leases ${CONTROL_PLANE_ONLY} (control-plane nodes take and renew them to elect the controller leader)` }],
    ["Node", { readOnly: `nodes ${CONTROL_PLANE_ONLY} (each node agent registers its own)` }],
    ["Role", roleAdmitter(roleSchema)],
    ["ClusterRole", roleAdmitter(clusterRoleSchema)],
    ["RoleBinding", bindingAdmitter(roleBindingSchema)],
    ["ClusterRoleBinding", bindingAdmitter(clusterRoleBindingSchema)],
    ...dataProtectionAdmitters(),
    ["Restore", restoreKindAdmitter(clusterCreateCauses)],
    ...detectionAdmitters(),
    ["PodMonitor", { schema: podMonitorSchema }],
    ["ServiceMonitor", { schema: serviceMonitorSchema }],
    ["PrometheusRule", { schema: prometheusRuleObjectSchema }],
  ]);
}
