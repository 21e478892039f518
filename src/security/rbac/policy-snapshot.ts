/** The RBAC objects of the store at one moment, indexed for authorization: roles by name, bindings by subject. */
import {
  clusterRoleBindingSchema,
  clusterRoleSchema,
  roleBindingSchema,
  roleSchema,
  type PolicyRule,
  type Resource,
  type RoleRef,
  type Subject,
} from "../../api/index.ts";
import type { Store } from "../../store/index.ts";
import type { Identity } from "../identity.ts";

/** Who is asking, as far as RBAC cares: a user name and groups. */
export type Requester = Pick<Identity, "username" | "groups">;

/** A binding as the authorizer sees it. `namespace` is undefined for a ClusterRoleBinding. */
export interface BindingEntry {
  kind: "RoleBinding" | "ClusterRoleBinding";
  name: string;
  namespace: string | undefined;
  roleRef: RoleRef;
  /** Position in a stable order (cluster bindings first, then by namespace and name), so reasons are deterministic. */
  order: number;
}

/** A binding that applies to a requester, with the rules of the role it references. */
export interface GrantingBinding {
  binding: BindingEntry;
  rules: readonly PolicyRule[];
}

type SubjectIndex = Map<string, BindingEntry[]>;

/** The ServiceAccount user name Kubernetes authenticates: `system:serviceaccount:<namespace>:<name>`. */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** An immutable, indexed view of every Role, ClusterRole, RoleBinding and ClusterRoleBinding. */
export class PolicySnapshot {
  private readonly clusterRoles = new Map<string, PolicyRule[]>();
  private readonly roles = new Map<string, PolicyRule[]>();
  private readonly clusterBindings: SubjectIndex = new Map();
  private readonly roleBindings = new Map<string, SubjectIndex>();

  /** Index parsed objects; objects that fail their schema are left out, so they grant nothing. */
  constructor(objects: { clusterRoles: Resource[]; roles: Resource[]; clusterRoleBindings: Resource[]; roleBindings: Resource[] }) {
    for (const role of parseAll(clusterRoleSchema, objects.clusterRoles)) this.clusterRoles.set(role.metadata.name, role.rules);
    for (const role of parseAll(roleSchema, objects.roles)) this.roles.set(roleKey(role.metadata.namespace ?? "", role.metadata.name), role.rules);
    let order = 0;
    for (const { metadata, roleRef, subjects } of parseAll(clusterRoleBindingSchema, sortByKey(objects.clusterRoleBindings))) {
      addToIndex(this.clusterBindings, { kind: "ClusterRoleBinding", name: metadata.name, namespace: undefined, roleRef, order: order++ }, subjects);
    }
    for (const { metadata, roleRef, subjects } of parseAll(roleBindingSchema, sortByKey(objects.roleBindings))) {
      const namespace = metadata.namespace ?? "";
      const index = this.roleBindings.get(namespace) ?? new Map<string, BindingEntry[]>();
      this.roleBindings.set(namespace, index);
      addToIndex(index, { kind: "RoleBinding", name: metadata.name, namespace, roleRef, order: order++ }, subjects);
    }
  }

  /** Bindings that apply to `requester` in `namespace` (cluster bindings always; RoleBindings of that namespace only). */
  grantsFor(requester: Requester, namespace: string | undefined): GrantingBinding[] {
    const keys = subjectKeys(requester);
    const found = new Set<BindingEntry>();
    const collect = (index: SubjectIndex | undefined): void => {
      for (const key of keys) for (const entry of index?.get(key) ?? []) found.add(entry);
    };
    collect(this.clusterBindings);
    if (namespace !== undefined && namespace !== "") collect(this.roleBindings.get(namespace));
    return [...found].sort((a, b) => a.order - b.order).map((binding) => ({ binding, rules: this.rulesOf(binding.roleRef, binding.namespace) ?? [] }));
  }

  /** The namespaces in which a RoleBinding applies to `requester`, sorted. */
  boundNamespaces(requester: Requester): string[] {
    const keys = subjectKeys(requester);
    const bound = [...this.roleBindings].filter(([, index]) => keys.some((key) => (index.get(key)?.length ?? 0) > 0));
    return bound.map(([namespace]) => namespace).sort();
  }

  /** The rules of the role a roleRef names, seen from `namespace`; undefined when the role does not exist. */
  rulesOf(roleRef: RoleRef, namespace: string | undefined): readonly PolicyRule[] | undefined {
    if (roleRef.kind === "ClusterRole") return this.clusterRoles.get(roleRef.name);
    return namespace === undefined ? undefined : this.roles.get(roleKey(namespace, roleRef.name));
  }
}

/** Read every RBAC object from the store and index it. */
export async function loadPolicySnapshot(store: Store): Promise<PolicySnapshot> {
  const [clusterRoles, roles, clusterRoleBindings, roleBindings] = await Promise.all(
    ["ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding"].map(async (kind) => (await store.list(kind)).items),
  );
  return new PolicySnapshot({ clusterRoles: clusterRoles ?? [], roles: roles ?? [], clusterRoleBindings: clusterRoleBindings ?? [], roleBindings: roleBindings ?? [] });
}

function parseAll<T>(schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } }, objects: readonly Resource[]): T[] {
  return objects.flatMap((object) => {
    const parsed = schema.safeParse(object);
    return parsed.success ? [parsed.data] : [];
  });
}

function roleKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function subjectKeys(requester: Requester): string[] {
  return [`User:${requester.username}`, ...requester.groups.map((group) => `Group:${group}`)];
}

// A ServiceAccount subject without a namespace means the binding's own namespace, as in Kubernetes.
function subjectKey(subject: Subject, bindingNamespace: string | undefined): string | undefined {
  if (subject.kind !== "ServiceAccount") return `${subject.kind}:${subject.name}`;
  const namespace = subject.namespace === undefined || subject.namespace === "" ? bindingNamespace : subject.namespace;
  return namespace === undefined ? undefined : `User:${serviceAccountUsername(namespace, subject.name)}`;
}

function addToIndex(index: SubjectIndex, entry: BindingEntry, subjects: readonly Subject[]): void {
  for (const subject of subjects) {
    const key = subjectKey(subject, entry.namespace);
    if (key === undefined) continue;
    const entries = index.get(key) ?? [];
    if (!entries.includes(entry)) entries.push(entry);
    index.set(key, entries);
  }
}

function sortByKey(objects: Resource[]): Resource[] {
  const key = (object: Resource): string => `${object.metadata.namespace ?? ""}/${object.metadata.name}`;
  return [...objects].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
