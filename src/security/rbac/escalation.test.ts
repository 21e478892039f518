import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ForbiddenError } from "../../errors/index.ts";
import type { Store } from "../../store/index.ts";
import { Authorizer } from "./authorizer.ts";
import { ensureBuiltinRoles } from "./ensure-builtin-roles.ts";
import { checkActingAs, checkEscalation } from "./escalation.ts";
import { clusterRole, clusterRoleBinding, role, roleBinding, tempStores, user, userSubject, type TempStores } from "./test-fixtures.ts";

let stores: TempStores;
let store: Store;
let authorizer: Authorizer;

beforeEach(async () => {
  stores = tempStores();
  store = stores.open();
  await ensureBuiltinRoles(store);
  authorizer = new Authorizer(store);
  // alice administers team-a; bob can only read clusters everywhere.
  await store.create(roleBinding("team-a", "alice-admin", { kind: "ClusterRole", name: "admin" }, [userSubject("alice")]));
  await store.create(clusterRoleBinding("bob-view", "view", [userSubject("bob")]));
});
afterEach(() => {
  authorizer.close();
  stores.cleanup();
});

const alice = user("alice");
const bob = user("bob");
const readSecrets = { apiGroups: [""], resources: ["secrets"], verbs: ["get"] };
const readAudit = { apiGroups: ["audit.holdfast.io"], resources: ["auditevents"], verbs: ["get"] };

async function refusal(promise: Promise<void>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ForbiddenError, `expected ForbiddenError, got ${String(error)}`);
    return error.message;
  }
  assert.fail("expected the write to be refused");
}

describe("checkEscalation: roles", () => {
  it("lets a namespace admin create a Role with rules they hold in that namespace", async () => {
    await checkEscalation(authorizer, alice, role("team-a", "secret-reader", [readSecrets]), "team-a");
    await checkEscalation(authorizer, alice, role("team-a", "named", [{ ...readSecrets, resourceNames: ["db-password"] }]), "team-a");
  });

  it("refuses a Role in another namespace, and says which rule is not held", async () => {
    const message = await refusal(checkEscalation(authorizer, alice, role("team-b", "secret-reader", [readSecrets]), "team-b"));
    assert.match(message, /Role "secret-reader"/);
    assert.match(message, /\{APIGroups:\[""\] Resources:\["secrets"\] Verbs:\["get"\]\}/);
    assert.match(message, /in namespace team-b/);
  });

  it("refuses rules beyond what is held: more verbs, wildcards, other kinds", async () => {
    await refusal(checkEscalation(authorizer, alice, role("team-a", "r", [readAudit]), "team-a"));
    await refusal(checkEscalation(authorizer, alice, role("team-a", "r", [{ apiGroups: [""], resources: ["secrets"], verbs: ["*"] }]), "team-a"));
    await refusal(checkEscalation(authorizer, alice, role("team-a", "r", [{ apiGroups: ["*"], resources: ["secrets"], verbs: ["get"] }]), "team-a"));
    await refusal(checkEscalation(authorizer, alice, role("team-a", "r", [{ apiGroups: ["apps.kubeblocks.io"], resources: ["clusters/status"], verbs: ["update"] }]), "team-a"));
  });

  it("checks ClusterRoles against cluster-wide rules only", async () => {
    // alice's admin rights in team-a do not let her write a ClusterRole with them.
    const message = await refusal(checkEscalation(authorizer, alice, clusterRole("secret-reader", [readSecrets]), undefined));
    assert.match(message, /at cluster scope/);
    await checkEscalation(authorizer, bob, clusterRole("cluster-reader", [{ apiGroups: ["apps.kubeblocks.io"], resources: ["clusters"], verbs: ["get", "list"] }]), undefined);
  });

  it("requires full authority to set an aggregationRule", async () => {
    const aggregated = { ...clusterRole("aggregated", []), aggregationRule: { clusterRoleSelectors: [] } };
    await refusal(checkEscalation(authorizer, bob, aggregated, undefined));
    await checkEscalation(authorizer, user("root", ["system:masters"]), aggregated, undefined);
  });

  it("allows anything to a holder of escalate on roles in that namespace", async () => {
    await store.create(role("team-a", "escalator", [{ apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"], verbs: ["escalate"] }]));
    await store.create(roleBinding("team-a", "carol-escalates", { kind: "Role", name: "escalator" }, [userSubject("carol")]));
    await checkEscalation(authorizer, user("carol"), role("team-a", "anything", [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }]), "team-a");
    await refusal(checkEscalation(authorizer, user("carol"), role("team-b", "anything", [readSecrets]), "team-b"));
  });
});

describe("checkEscalation: bindings", () => {
  it("lets a namespace admin bind edit or admin in their namespace, not elsewhere", async () => {
    await checkEscalation(authorizer, alice, roleBinding("team-a", "dev", { kind: "ClusterRole", name: "edit" }, [userSubject("dave")]), "team-a");
    await checkEscalation(authorizer, alice, roleBinding("team-a", "co-admin", { kind: "ClusterRole", name: "admin" }, [userSubject("dave")]), "team-a");
    await refusal(checkEscalation(authorizer, alice, roleBinding("team-b", "dev", { kind: "ClusterRole", name: "edit" }, [userSubject("dave")]), "team-b"));
    await refusal(checkEscalation(authorizer, alice, clusterRoleBinding("dev", "view", [userSubject("dave")]), undefined));
  });

  it("refuses binding a role with more power than the author has, naming the role", async () => {
    const auditorMessage = await refusal(checkEscalation(authorizer, alice, roleBinding("team-a", "audit", { kind: "ClusterRole", name: "auditor" }, [userSubject("alice")]), "team-a"));
    assert.match(auditorMessage, /through ClusterRole "auditor"/);
    assert.match(auditorMessage, /auditevents/);
    await refusal(checkEscalation(authorizer, bob, clusterRoleBinding("bob-edit", "edit", [userSubject("bob")]), undefined));
    await refusal(checkEscalation(authorizer, alice, roleBinding("team-a", "root", { kind: "ClusterRole", name: "cluster-admin" }, [userSubject("alice")]), "team-a"));
  });

  it("refuses a binding to a role that does not exist", async () => {
    const message = await refusal(checkEscalation(authorizer, alice, roleBinding("team-a", "x", { kind: "Role", name: "missing" }, [userSubject("dave")]), "team-a"));
    assert.match(message, /Role "missing" does not exist in namespace team-a/);
  });

  it("allows binding exactly the roles named in a bind grant", async () => {
    await store.create(clusterRole("auditor-binder", [{ apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"], verbs: ["bind"], resourceNames: ["auditor"] }]));
    await store.create(clusterRoleBinding("erin-binds", "auditor-binder", [userSubject("erin")]));
    const erin = user("erin");
    await checkEscalation(authorizer, erin, clusterRoleBinding("audit", "auditor", [userSubject("frank")]), undefined);
    await checkEscalation(authorizer, erin, roleBinding("team-b", "audit", { kind: "ClusterRole", name: "auditor" }, [userSubject("frank")]), "team-b");
    await refusal(checkEscalation(authorizer, erin, clusterRoleBinding("admins", "cluster-admin", [userSubject("frank")]), undefined));
  });

  it("lets cluster-admin grant anything", async () => {
    const root = user("root", ["system:masters"]);
    await checkEscalation(authorizer, root, clusterRoleBinding("audit", "auditor", [userSubject("frank")]), undefined);
    await checkEscalation(authorizer, root, clusterRole("all", [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }]), undefined);
  });
});

describe("acting as another user (API tokens for them)", () => {
  it("needs every permission of the subject, cluster-wide and in each namespace it is bound in", async () => {
    const carol = user("carol");
    await store.create(roleBinding("team-b", "carol-edit", { kind: "ClusterRole", name: "edit" }, [userSubject("carol")]));
    const message = await refusal(checkActingAs(authorizer, alice, carol));
    assert.match(message, /cannot act as user "carol"/);
    assert.match(message, /in namespace team-b/);
    await refusal(checkActingAs(authorizer, alice, bob)); // bob reads clusters everywhere; alice only in team-a
    await checkActingAs(authorizer, bob, user("nobody"));
    await checkActingAs(authorizer, user("root", ["system:masters"]), carol);
  });

  it("is allowed by the impersonate verb on that user only", async () => {
    await store.create(clusterRole("impersonate-bob", [{ apiGroups: [""], resources: ["users"], verbs: ["impersonate"], resourceNames: ["bob"] }]));
    await store.create(clusterRoleBinding("dave-impersonates", "impersonate-bob", [userSubject("dave")]));
    const dave = user("dave");
    await checkActingAs(authorizer, dave, bob);
    await refusal(checkActingAs(authorizer, dave, alice));
  });
});
