/** Helpers shared by the RBAC tests: a throwaway sqlite store and RBAC objects to put in it. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RBAC_API_VERSION, RBAC_GROUP, type ClusterRole, type ClusterRoleBinding, type PolicyRule, type Role, type RoleBinding, type Subject } from "../../api/index.ts";
import { openSqliteStore, type Store } from "../../store/index.ts";
import { AUTHENTICATED_GROUP, type Identity } from "../identity.ts";

/** A temporary directory whose stores are closed and removed by `cleanup`. */
export interface TempStores {
  open(): Store;
  cleanup(): void;
}

/** Make a temporary directory for stores. */
export function tempStores(): TempStores {
  const dir = mkdtempSync(join(tmpdir(), "holdfast-rbac-"));
  const opened: Store[] = [];
  let count = 0;
  return {
    open() {
      count += 1;
      const store = openSqliteStore({ path: join(dir, `store-${count}.db`) });
      opened.push(store);
      return store;
    },
    cleanup() {
      for (const store of opened) store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A signed-in user. */
export function user(username: string, groups: string[] = []): Identity {
  return { username, groups: [AUTHENTICATED_GROUP, ...groups], via: "session", credentialId: `session-${username}` };
}

/** A User subject. */
export function userSubject(name: string): Subject {
  return { kind: "User", apiGroup: RBAC_GROUP, name };
}

/** A Role. */
export function role(namespace: string, name: string, rules: PolicyRule[]): Role {
  return { apiVersion: RBAC_API_VERSION, kind: "Role", metadata: { name, namespace }, rules };
}

/** A ClusterRole. */
export function clusterRole(name: string, rules: PolicyRule[]): ClusterRole {
  return { apiVersion: RBAC_API_VERSION, kind: "ClusterRole", metadata: { name }, rules };
}

/** A RoleBinding of a Role (same namespace) or ClusterRole. */
export function roleBinding(namespace: string, name: string, roleRef: { kind: "Role" | "ClusterRole"; name: string }, subjects: Subject[]): RoleBinding {
  return { apiVersion: RBAC_API_VERSION, kind: "RoleBinding", metadata: { name, namespace }, roleRef: { apiGroup: RBAC_GROUP, ...roleRef }, subjects };
}

/** A ClusterRoleBinding of a ClusterRole. */
export function clusterRoleBinding(name: string, roleName: string, subjects: Subject[]): ClusterRoleBinding {
  return { apiVersion: RBAC_API_VERSION, kind: "ClusterRoleBinding", metadata: { name }, roleRef: { apiGroup: RBAC_GROUP, kind: "ClusterRole", name: roleName }, subjects };
}
