/**
 * The built-in roles, cell by cell. Every expected decision is written out below: one letter per verb
 * (g get, l list, w watch, c create, u update, p patch, d delete) where the verb is allowed, "." where it is denied;
 * three columns per resource: the bound namespace (team-a), another namespace (team-b), cluster scope.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Store } from "../../store/index.ts";
import type { RequestAttributes } from "../identity.ts";
import { Authorizer } from "./authorizer.ts";
import { BOOTSTRAP_LABEL } from "./builtin-roles.ts";
import { bindClusterAdmin, ensureBuiltinRoles } from "./ensure-builtin-roles.ts";
import { clusterRoleBinding, roleBinding, tempStores, user, userSubject, type TempStores } from "./test-fixtures.ts";

const VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"] as const;
const LETTERS = "glwcupd";
const NAMESPACES = ["team-a", "team-b", undefined] as const;

const RESOURCES: Record<string, Omit<RequestAttributes, "verb" | "namespace">> = {
  namespaces: { apiGroup: "", resource: "namespaces" },
  secrets: { apiGroup: "", resource: "secrets" },
  events: { apiGroup: "", resource: "events" },
  clusters: { apiGroup: "apps.kubeblocks.io", resource: "clusters" },
  "clusters/status": { apiGroup: "apps.kubeblocks.io", resource: "clusters", subresource: "status" },
  opsrequests: { apiGroup: "operations.kubeblocks.io", resource: "opsrequests" },
  instances: { apiGroup: "holdfast.io", resource: "instances" },
  roles: { apiGroup: "rbac.authorization.k8s.io", resource: "roles" },
  rolebindings: { apiGroup: "rbac.authorization.k8s.io", resource: "rolebindings" },
  clusterroles: { apiGroup: "rbac.authorization.k8s.io", resource: "clusterroles" },
  auditevents: { apiGroup: "audit.holdfast.io", resource: "auditevents" },
  users: { apiGroup: "security.holdfast.io", resource: "users" },
  backups: { apiGroup: "dataprotection.kubeblocks.io", resource: "backups" },
  databases: { apiGroup: "holdfast.io", resource: "databases" },
};

type Row = readonly [string, string, string];
type Table = Record<keyof typeof RESOURCES, Row>;

const ALL: Row = ["glwcupd", "glwcupd", "glwcupd"];
const NONE: Row = [".......", ".......", "......."];
const ONLY_BOUND_ALL: Row = ["glwcupd", ".......", "......."];
const ONLY_BOUND_READ: Row = ["glw....", ".......", "......."];
const READ_EVERYWHERE: Row = ["glw....", "glw....", "glw...."];
/** Editors take and change backups; deleting one is admin's. */
const ONLY_BOUND_NO_DELETE: Row = ["glwcup.", ".......", "......."];
const NO_DELETE_EVERYWHERE: Row = ["glwcup.", "glwcup.", "glwcup."];

/** Each built-in ClusterRole granted to a user by a RoleBinding in team-a. */
const THROUGH_ROLEBINDING: Record<string, Table> = {
  "cluster-admin": {
    namespaces: ONLY_BOUND_ALL, secrets: ONLY_BOUND_ALL, events: ONLY_BOUND_ALL, clusters: ONLY_BOUND_ALL, databases: ONLY_BOUND_ALL,
    "clusters/status": ONLY_BOUND_ALL, opsrequests: ONLY_BOUND_ALL, instances: ONLY_BOUND_ALL, roles: ONLY_BOUND_ALL,
    rolebindings: ONLY_BOUND_ALL, clusterroles: ONLY_BOUND_ALL, auditevents: ONLY_BOUND_ALL, users: ONLY_BOUND_ALL, backups: ONLY_BOUND_ALL,
  },
  admin: {
    namespaces: ONLY_BOUND_READ, secrets: ONLY_BOUND_ALL, events: ONLY_BOUND_ALL, clusters: ONLY_BOUND_ALL, databases: ONLY_BOUND_ALL,
    "clusters/status": ONLY_BOUND_READ, opsrequests: ONLY_BOUND_ALL, instances: ONLY_BOUND_ALL, roles: ONLY_BOUND_ALL,
    rolebindings: ONLY_BOUND_ALL, clusterroles: NONE, auditevents: NONE, users: NONE, backups: ONLY_BOUND_ALL,
  },
  edit: {
    namespaces: ONLY_BOUND_READ, secrets: ONLY_BOUND_ALL, events: ONLY_BOUND_READ, clusters: ONLY_BOUND_ALL, databases: ONLY_BOUND_ALL,
    "clusters/status": ONLY_BOUND_READ, opsrequests: ONLY_BOUND_ALL, instances: ONLY_BOUND_READ, roles: NONE,
    rolebindings: NONE, clusterroles: NONE, auditevents: NONE, users: NONE, backups: ONLY_BOUND_NO_DELETE,
  },
  view: {
    namespaces: ONLY_BOUND_READ, secrets: NONE, events: ONLY_BOUND_READ, clusters: ONLY_BOUND_READ, databases: ONLY_BOUND_READ,
    "clusters/status": ONLY_BOUND_READ, opsrequests: ONLY_BOUND_READ, instances: ONLY_BOUND_READ, roles: NONE,
    rolebindings: NONE, clusterroles: NONE, auditevents: NONE, users: NONE, backups: ONLY_BOUND_READ,
  },
  auditor: {
    namespaces: NONE, secrets: NONE, events: NONE, clusters: NONE, databases: NONE,
    "clusters/status": NONE, opsrequests: NONE, instances: NONE, roles: NONE,
    rolebindings: NONE, clusterroles: NONE, auditevents: ["gl.....", ".......", "......."], users: NONE, backups: NONE,
  },
};

/** Each built-in ClusterRole granted to a user by a ClusterRoleBinding. */
const THROUGH_CLUSTERROLEBINDING: Record<string, Table> = {
  "cluster-admin": {
    namespaces: ALL, secrets: ALL, events: ALL, clusters: ALL, databases: ALL,
    "clusters/status": ALL, opsrequests: ALL, instances: ALL, roles: ALL,
    rolebindings: ALL, clusterroles: ALL, auditevents: ALL, users: ALL, backups: ALL,
  },
  admin: {
    namespaces: READ_EVERYWHERE, secrets: ALL, events: ALL, clusters: ALL, databases: ALL,
    "clusters/status": READ_EVERYWHERE, opsrequests: ALL, instances: ALL, roles: ALL,
    rolebindings: ALL, clusterroles: NONE, auditevents: NONE, users: NONE, backups: ALL,
  },
  edit: {
    namespaces: READ_EVERYWHERE, secrets: ALL, events: READ_EVERYWHERE, clusters: ALL, databases: ALL,
    "clusters/status": READ_EVERYWHERE, opsrequests: ALL, instances: READ_EVERYWHERE, roles: NONE,
    rolebindings: NONE, clusterroles: NONE, auditevents: NONE, users: NONE, backups: NO_DELETE_EVERYWHERE,
  },
  view: {
    namespaces: READ_EVERYWHERE, secrets: NONE, events: READ_EVERYWHERE, clusters: READ_EVERYWHERE, databases: READ_EVERYWHERE,
    "clusters/status": READ_EVERYWHERE, opsrequests: READ_EVERYWHERE, instances: READ_EVERYWHERE, roles: NONE,
    rolebindings: NONE, clusterroles: NONE, auditevents: NONE, users: NONE, backups: READ_EVERYWHERE,
  },
  auditor: {
    namespaces: NONE, secrets: NONE, events: NONE, clusters: NONE, databases: NONE,
    "clusters/status": NONE, opsrequests: NONE, instances: NONE, roles: NONE,
    rolebindings: NONE, clusterroles: NONE, auditevents: ["gl.....", "gl.....", "gl....."], users: NONE, backups: NONE,
  },
};

/** A signed-in user with no binding at all. */
const NO_BINDING: Table = {
  namespaces: NONE, secrets: NONE, events: NONE, clusters: NONE, databases: NONE,
  "clusters/status": NONE, opsrequests: NONE, instances: NONE, roles: NONE,
  rolebindings: NONE, clusterroles: NONE, auditevents: NONE, users: NONE, backups: NONE,
};

let stores: TempStores;
let store: Store;
let authorizer: Authorizer;

before(async () => {
  stores = tempStores();
  store = stores.open();
  await ensureBuiltinRoles(store);
  for (const roleName of Object.keys(THROUGH_ROLEBINDING)) {
    await store.create(roleBinding("team-a", `rb-${roleName}`, { kind: "ClusterRole", name: roleName }, [userSubject(`rb-${roleName}`)]));
    await store.create(clusterRoleBinding(`crb-${roleName}`, roleName, [userSubject(`crb-${roleName}`)]));
  }
  authorizer = new Authorizer(store);
});
after(() => {
  authorizer.close();
  stores.cleanup();
});

/** Every cell where the decision differs from the table, described; and how many cells were checked. */
async function mismatches(username: string, table: Table): Promise<{ wrong: string[]; cells: number }> {
  const wrong: string[] = [];
  let cells = 0;
  for (const [resourceName, row] of Object.entries(table)) {
    const resource = RESOURCES[resourceName];
    assert.ok(resource, `unknown resource ${resourceName} in the table`);
    for (const [column, namespace] of NAMESPACES.entries()) {
      const expected = row[column] ?? "";
      for (const [index, verb] of VERBS.entries()) {
        const attributes: RequestAttributes = { ...resource, verb, ...(namespace === undefined ? {} : { namespace }) };
        const decision = await authorizer.authorize(user(username), attributes);
        const expectAllowed = expected[index] === LETTERS[index];
        cells += 1;
        if (decision.allowed !== expectAllowed) {
          wrong.push(`${username}: ${verb} ${resourceName} ${namespace ?? "(cluster)"}: expected ${expectAllowed ? "allow" : "deny"}, got "${decision.reason}"`);
        }
      }
    }
  }
  return { wrong, cells };
}

const CELLS_PER_TABLE = Object.keys(RESOURCES).length * NAMESPACES.length * VERBS.length;

describe("built-in roles, cell by cell", () => {
  for (const [roleName, table] of Object.entries(THROUGH_ROLEBINDING)) {
    it(`${roleName} through a RoleBinding in team-a grants only in team-a, and only what the table says`, async () => {
      const { wrong, cells } = await mismatches(`rb-${roleName}`, table);
      assert.deepEqual(wrong, []);
      assert.equal(cells, CELLS_PER_TABLE);
    });
  }
  for (const [roleName, table] of Object.entries(THROUGH_CLUSTERROLEBINDING)) {
    it(`${roleName} through a ClusterRoleBinding grants what the table says everywhere`, async () => {
      const { wrong, cells } = await mismatches(`crb-${roleName}`, table);
      assert.deepEqual(wrong, []);
      assert.equal(cells, CELLS_PER_TABLE);
    });
  }
  it("a user with no binding is denied every cell", async () => {
    const { wrong, cells } = await mismatches("nobody", NO_BINDING);
    assert.deepEqual(wrong, []);
    assert.equal(cells, CELLS_PER_TABLE);
  });
});

describe("built-in roles, beyond the table", () => {
  it("view cannot read a database credential or any other subresource it was not given", async () => {
    const viewer = user("crb-view");
    const credential = { verb: "get", apiGroup: "", resource: "secrets", name: "db1-postgresql-account-postgres", namespace: "team-a" };
    assert.equal((await authorizer.authorize(viewer, credential)).allowed, false);
    const sub = { verb: "get", apiGroup: "apps.kubeblocks.io", resource: "clusters", subresource: "credential", namespace: "team-a" };
    assert.equal((await authorizer.authorize(viewer, sub)).allowed, false);
    assert.equal((await authorizer.authorize(user("crb-edit"), credential)).allowed, true);
  });

  it("OpsDefinitions (cluster-scoped) are read by every role bound cluster-wide and written by cluster-admin alone", async () => {
    const definition = (verb: string) => ({ verb, apiGroup: "operations.kubeblocks.io", resource: "opsdefinitions", name: "pg-checkpoint" });
    for (const role of ["view", "edit", "admin"]) {
      assert.equal((await authorizer.authorize(user(`crb-${role}`), definition("get"))).allowed, true, role);
      for (const verb of ["create", "update", "patch", "delete"]) assert.equal((await authorizer.authorize(user(`crb-${role}`), definition(verb))).allowed, false, `${role} ${verb}`);
    }
    assert.equal((await authorizer.authorize(user("rb-admin"), definition("get"))).allowed, false, "a namespace's admin does not read cluster-scoped kinds");
    assert.equal((await authorizer.authorize(user("crb-cluster-admin"), definition("create"))).allowed, true);
  });

  it("members of system:masters are cluster admins; every signed-in user may ask can-i", async () => {
    const attributes = { verb: "delete", apiGroup: "", resource: "namespaces", name: "team-a" };
    assert.deepEqual(await authorizer.authorize(user("root", ["system:masters"]), attributes), {
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin"',
    });
    const review = { verb: "create", apiGroup: "authorization.k8s.io", resource: "selfsubjectaccessreviews" };
    assert.equal((await authorizer.authorize(user("nobody"), review)).allowed, true);
    assert.equal((await authorizer.authorize({ username: "anonymous", groups: [] }, review)).allowed, false);
  });

  it("no built-in role below cluster-admin holds escalate, bind or impersonate", async () => {
    for (const roleName of ["admin", "edit", "view", "auditor"]) {
      for (const verb of ["escalate", "bind", "impersonate"]) {
        for (const resource of ["roles", "clusterroles", "users"]) {
          const decision = await authorizer.authorize(user(`crb-${roleName}`), { verb, apiGroup: "rbac.authorization.k8s.io", resource, namespace: "team-a" });
          assert.equal(decision.allowed, false, `${roleName} ${verb} ${resource}`);
        }
      }
    }
  });
});

describe("ensureBuiltinRoles", () => {
  it("is idempotent, labels its objects, and resets a changed built-in role", async () => {
    const fresh = stores.open();
    await ensureBuiltinRoles(fresh);
    const first = await fresh.list("ClusterRole");
    assert.deepEqual(first.items.map((item) => item.metadata.name).sort(), ["admin", "auditor", "cluster-admin", "edit", "monitoring", "system:basic-user", "view"]);
    for (const item of first.items) assert.equal(item.metadata.labels?.["kubernetes.io/bootstrapping"], BOOTSTRAP_LABEL["kubernetes.io/bootstrapping"]);
    await ensureBuiltinRoles(fresh);
    assert.equal((await fresh.list("ClusterRole")).resourceVersion, first.resourceVersion, "a second run writes nothing");

    const view = first.items.find((item) => item.metadata.name === "view")!;
    await fresh.update({ ...view, rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get"] }] });
    await ensureBuiltinRoles(fresh);
    const reset = await fresh.get({ kind: "ClusterRole", name: "view" });
    assert.deepEqual(reset?.["rules"], view["rules"]);
  });

  it("leaves a built-in role annotated autoupdate=false alone, and keeps subjects added to built-in bindings", async () => {
    const fresh = stores.open();
    await ensureBuiltinRoles(fresh);
    const view = (await fresh.get({ kind: "ClusterRole", name: "view" }))!;
    const custom = [{ apiGroups: [""], resources: ["events"], verbs: ["get"] }];
    await fresh.update({ ...view, metadata: { ...view.metadata, annotations: { "rbac.authorization.kubernetes.io/autoupdate": "false" } }, rules: custom });
    const masters = (await fresh.get({ kind: "ClusterRoleBinding", name: "cluster-admin" }))!;
    await fresh.update({ ...masters, subjects: [...(masters["subjects"] as object[]), userSubject("root")] });
    await ensureBuiltinRoles(fresh);
    assert.deepEqual((await fresh.get({ kind: "ClusterRole", name: "view" }))?.["rules"], custom);
    const subjects = (await fresh.get({ kind: "ClusterRoleBinding", name: "cluster-admin" }))?.["subjects"] as { name: string }[];
    assert.deepEqual(subjects.map((subject) => subject.name), ["system:masters", "root"]);
  });
});

describe("bindClusterAdmin", () => {
  it("makes a user cluster-admin, once", async () => {
    const fresh = stores.open();
    await ensureBuiltinRoles(fresh);
    const freshAuthorizer = new Authorizer(fresh);
    const attributes = { verb: "create", apiGroup: "rbac.authorization.k8s.io", resource: "clusterroles" };
    assert.equal((await freshAuthorizer.authorize(user("first-admin"), attributes)).allowed, false);
    await bindClusterAdmin(fresh, "first-admin");
    const binding = await bindClusterAdmin(fresh, "first-admin");
    assert.deepEqual(binding.subjects.map((subject) => subject.name), ["first-admin"]);
    await bindClusterAdmin(fresh, "second-admin");
    assert.deepEqual(await freshAuthorizer.authorize(user("first-admin"), attributes), {
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "cluster-admins" of ClusterRole "cluster-admin"',
    });
    assert.equal((await freshAuthorizer.authorize(user("second-admin"), attributes)).allowed, true);
    freshAuthorizer.close();
  });
});
