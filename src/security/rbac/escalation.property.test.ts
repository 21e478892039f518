/**
 * Property: nobody grants what they do not hold. For random held rules and random candidate roles and bindings,
 * whenever checkEscalation accepts, a probe user given the candidate can do nothing the author could not.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { PolicyRule } from "../../api/index.ts";
import { ForbiddenError } from "../../errors/index.ts";
import type { Store } from "../../store/index.ts";
import type { RequestAttributes } from "../identity.ts";
import { Authorizer } from "./authorizer.ts";
import { checkEscalation, type RbacObject } from "./escalation.ts";
import { clusterRole, clusterRoleBinding, role, roleBinding, tempStores, user, userSubject, type TempStores } from "./test-fixtures.ts";

const NS = "ns1";
const author = user("author");
const probe = user("probe");

// Small universes, so random rules overlap often and wildcards meet literal values.
const RULE_GROUPS = ["", "apps.kubeblocks.io", "*"];
const RULE_RESOURCES = ["secrets", "clusters", "clusters/status", "*", "*/status"];
const RULE_VERBS = ["get", "list", "create", "*"];
const RULE_NAMES = ["a", "b"];

const ruleArb: fc.Arbitrary<PolicyRule> = fc
  .record({
    apiGroups: fc.subarray(RULE_GROUPS, { minLength: 1 }),
    resources: fc.subarray(RULE_RESOURCES, { minLength: 1 }),
    verbs: fc.subarray(RULE_VERBS, { minLength: 1 }),
    resourceNames: fc.subarray(RULE_NAMES),
  })
  .map(({ resourceNames, ...rest }) => (resourceNames.length === 0 ? rest : { ...rest, resourceNames }));
const rulesArb = fc.array(ruleArb, { maxLength: 3 });

/** A held rule changed in one dimension: the near misses where a coverage bug would show. */
function nearMiss(rule: PolicyRule): fc.Arbitrary<PolicyRule> {
  const { resourceNames: _names, ...unnamed } = rule;
  return fc.oneof(
    fc.constant(rule),
    fc.constant(unnamed),
    fc.subarray(RULE_NAMES, { minLength: 1 }).map((resourceNames) => ({ ...rule, resourceNames })),
    fc.subarray(RULE_RESOURCES, { minLength: 1 }).map((resources) => ({ ...rule, resources })),
    fc.subarray(RULE_VERBS, { minLength: 1 }).map((verbs) => ({ ...rule, verbs })),
    fc.subarray(RULE_GROUPS, { minLength: 1 }).map((apiGroups) => ({ ...rule, apiGroups })),
  );
}

/** Candidate rules: random ones, and near misses of what the author holds. */
function candidateRulesArb(held: PolicyRule[]): fc.Arbitrary<PolicyRule[]> {
  const fromHeld = held.length === 0 ? ruleArb : fc.constantFrom(...held).chain(nearMiss);
  return fc.array(fc.oneof(ruleArb, fromHeld, fromHeld), { maxLength: 3 });
}

type Candidate =
  | { kind: "Role" | "ClusterRole"; rules: PolicyRule[] }
  | { kind: "RoleBinding"; targetKind: "Role" | "ClusterRole"; targetRules: PolicyRule[] }
  | { kind: "ClusterRoleBinding"; targetRules: PolicyRule[] };

function candidateArb(held: PolicyRule[]): fc.Arbitrary<Candidate> {
  const rules = candidateRulesArb(held);
  return fc.oneof(
    fc.record({ kind: fc.constantFrom("Role" as const, "ClusterRole" as const), rules }),
    fc.record({ kind: fc.constant("RoleBinding" as const), targetKind: fc.constantFrom("Role" as const, "ClusterRole" as const), targetRules: rules }),
    fc.record({ kind: fc.constant("ClusterRoleBinding" as const), targetRules: rules }),
  );
}

const scenarioArb = fc
  .tuple(rulesArb, rulesArb)
  .chain(([clusterHeld, namespaceHeld]) =>
    fc.record({ clusterHeld: fc.constant(clusterHeld), namespaceHeld: fc.constant(namespaceHeld), candidate: candidateArb([...clusterHeld, ...namespaceHeld]) }),
  );

/** Every request the probe is checked on: literal values, some matching the rules' wildcards only. */
const SAMPLED: RequestAttributes[] = (() => {
  const product = <T, U>(left: T[], right: U[]): [T, U][] => left.flatMap((a) => right.map((b): [T, U] => [a, b]));
  const groups = product(["", "apps.kubeblocks.io", "rbac.authorization.k8s.io"], ["secrets", "clusters", "roles"]);
  const requests = product(product(groups, [undefined, "status", "log"]), ["get", "list", "create", "delete"]);
  const places = product([undefined, "a", "b", "c"], [NS, "ns2", undefined]);
  return product(requests, places).map(([[[[apiGroup, resource], subresource], verb], [name, namespace]]) => ({
    apiGroup,
    resource,
    verb,
    ...(subresource === undefined ? {} : { subresource }),
    ...(name === undefined ? {} : { name }),
    ...(namespace === undefined ? {} : { namespace }),
  }));
})();

let stores: TempStores;
before(() => (stores = tempStores()));
after(() => stores.cleanup());

/** A store where `author` holds `clusterHeld` cluster-wide and `namespaceHeld` in ns1. */
async function world(clusterHeld: PolicyRule[], namespaceHeld: PolicyRule[]): Promise<{ store: Store; authorizer: Authorizer }> {
  const store = stores.open();
  await store.create(clusterRole("held", clusterHeld));
  await store.create(clusterRoleBinding("author-held", "held", [userSubject("author")]));
  await store.create(role(NS, "held", namespaceHeld));
  await store.create(roleBinding(NS, "author-held", { kind: "Role", name: "held" }, [userSubject("author")]));
  return { store, authorizer: new Authorizer(store) };
}

/** The object the author wants to write; a binding's target role is created first. */
async function candidateObject(store: Store, candidate: Candidate): Promise<RbacObject> {
  switch (candidate.kind) {
    case "Role":
      return role(NS, "candidate", candidate.rules);
    case "ClusterRole":
      return clusterRole("candidate", candidate.rules);
    case "RoleBinding":
      await store.create(candidate.targetKind === "Role" ? role(NS, "target", candidate.targetRules) : clusterRole("target", candidate.targetRules));
      return roleBinding(NS, "candidate", { kind: candidate.targetKind, name: "target" }, [userSubject("probe")]);
    case "ClusterRoleBinding":
      await store.create(clusterRole("target", candidate.targetRules));
      return clusterRoleBinding("candidate", "target", [userSubject("probe")]);
  }
}

/** Write the accepted object and give the probe exactly what it grants. */
async function grantToProbe(store: Store, object: RbacObject): Promise<void> {
  await store.create(object);
  if (object.kind === "Role") await store.create(roleBinding(NS, "probe", { kind: "Role", name: object.metadata.name }, [userSubject("probe")]));
  if (object.kind === "ClusterRole") await store.create(clusterRoleBinding("probe", object.metadata.name, [userSubject("probe")]));
}

async function accepted(authorizer: Authorizer, object: RbacObject): Promise<boolean> {
  try {
    await checkEscalation(authorizer, author, object, object.metadata.namespace);
    return true;
  } catch (error) {
    if (error instanceof ForbiddenError) return false;
    throw error;
  }
}

describe("escalation prevention (property)", () => {
  it("whatever checkEscalation accepts grants nothing the author could not already do", async () => {
    assert.equal(SAMPLED.length, 3 * 3 * 3 * 4 * 4 * 3);
    const outcomes = { accepted: 0, refused: 0, probeAllowed: 0 };
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ clusterHeld, namespaceHeld, candidate }) => {
        const { store, authorizer } = await world(clusterHeld, namespaceHeld);
        try {
          const object = await candidateObject(store, candidate);
          if (!(await accepted(authorizer, object))) {
            outcomes.refused += 1;
            return;
          }
          outcomes.accepted += 1;
          await grantToProbe(store, object);
          for (const attributes of SAMPLED) {
            if (!(await authorizer.authorize(probe, attributes)).allowed) continue;
            outcomes.probeAllowed += 1;
            const decision = await authorizer.authorize(author, attributes);
            assert.ok(decision.allowed, `${object.kind} was accepted but grants ${JSON.stringify(attributes)}, which the author cannot do: ${decision.reason}`);
          }
        } finally {
          authorizer.close();
          store.close();
        }
      }),
      { numRuns: 300 },
    );
    // The property is only meaningful if both outcomes, and real grants, occur.
    assert.ok(outcomes.accepted > 20 && outcomes.refused > 20 && outcomes.probeAllowed > 100, JSON.stringify(outcomes));
  });

  it("accepts any role or binding made of rules the author holds in that scope", async () => {
    const heldArb = fc.tuple(rulesArb, rulesArb).chain(([clusterHeld, namespaceHeld]) =>
      fc.record({
        clusterHeld: fc.constant(clusterHeld),
        namespaceHeld: fc.constant(namespaceHeld),
        namespaced: fc.subarray([...clusterHeld, ...namespaceHeld]),
        clusterWide: fc.subarray(clusterHeld),
        kind: fc.constantFrom("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"),
      }),
    );
    await fc.assert(
      fc.asyncProperty(heldArb, async ({ clusterHeld, namespaceHeld, namespaced, clusterWide, kind }) => {
        const { store, authorizer } = await world(clusterHeld, namespaceHeld);
        try {
          const candidate: Candidate =
            kind === "Role" || kind === "ClusterRole"
              ? { kind, rules: kind === "Role" ? namespaced : clusterWide }
              : kind === "RoleBinding"
                ? { kind, targetKind: "Role", targetRules: namespaced }
                : { kind, targetRules: clusterWide };
          const object = await candidateObject(store, candidate);
          assert.ok(await accepted(authorizer, object), `${kind} with held rules was refused`);
        } finally {
          authorizer.close();
          store.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});
