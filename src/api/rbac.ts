/**
 * RBAC kinds (rbac.authorization.k8s.io/v1): Role, ClusterRole, RoleBinding, ClusterRoleBinding, with Kubernetes'
 * field names and validation; and the access reviews of authorization.k8s.io/v1, which are asked, never stored.
 */
import { z } from "zod";
import type { FieldCause } from "../errors/index.ts";
import { metadataSchema } from "./common.ts";

/** The API group of the RBAC kinds. */
export const RBAC_GROUP = "rbac.authorization.k8s.io";
/** The apiVersion of the RBAC kinds. */
export const RBAC_API_VERSION = `${RBAC_GROUP}/v1`;

/** RBAC object names follow Kubernetes' path-segment rule, so `system:basic-user` is a valid name. */
export const rbacNameSchema = z
  .string()
  .min(1, "must not be empty")
  .max(253, "must be no more than 253 characters")
  .regex(/^(?!\.\.?$)[^/%]+$/, "may not be '.' or '..' and may not contain '/' or '%'");

const rbacMetadataSchema = metadataSchema.extend({ name: rbacNameSchema });

const nonEmptyStrings = z.array(z.string().min(1, "must not be empty"));

/** One rule: the verbs allowed on resources of API groups, optionally only on named objects. `*` is a wildcard. */
export const policyRuleSchema = z
  .object({
    verbs: nonEmptyStrings.min(1, "at least one verb is required, e.g. get or *"),
    apiGroups: z.array(z.string()).optional(),
    resources: nonEmptyStrings.optional(),
    resourceNames: nonEmptyStrings.optional(),
    nonResourceURLs: nonEmptyStrings.optional(),
  })
  .superRefine((rule, context) => {
    if ((rule.nonResourceURLs ?? []).length > 0) {
      if ((rule.apiGroups ?? []).length > 0 || (rule.resources ?? []).length > 0) {
        context.addIssue({ code: "custom", path: ["nonResourceURLs"], message: "a rule applies to API resources or to non-resource URLs, not both" });
      }
      return;
    }
    if ((rule.apiGroups ?? []).length === 0) context.addIssue({ code: "custom", path: ["apiGroups"], message: 'required: list API groups, "" for the core group or "*"' });
    if ((rule.resources ?? []).length === 0) context.addIssue({ code: "custom", path: ["resources"], message: 'required: list resources such as clusters, clusters/status or "*"' });
  });

const namespacedRuleSchema = policyRuleSchema.refine((rule) => (rule.nonResourceURLs ?? []).length === 0, {
  error: "nonResourceURLs are allowed only in a ClusterRole",
  path: ["nonResourceURLs"],
});

/** Role: rules that apply in the Role's namespace. */
export const roleSchema = z.object({
  apiVersion: z.literal(RBAC_API_VERSION),
  kind: z.literal("Role"),
  metadata: rbacMetadataSchema,
  rules: z.array(namespacedRuleSchema).default([]),
});

/** Accepted for compatibility; Holdfast does not aggregate roles. */
export const aggregationRuleSchema = z.looseObject({
  clusterRoleSelectors: z.array(z.looseObject({})).optional(),
});

/** ClusterRole: rules that apply cluster-wide through a ClusterRoleBinding, or in one namespace through a RoleBinding. */
export const clusterRoleSchema = z.object({
  apiVersion: z.literal(RBAC_API_VERSION),
  kind: z.literal("ClusterRole"),
  metadata: rbacMetadataSchema,
  rules: z.array(policyRuleSchema).default([]),
  aggregationRule: aggregationRuleSchema.optional(),
});

/** The role a binding grants. Immutable: to change it, delete the binding and create a new one. */
export const roleRefSchema = z.object({
  apiGroup: z.literal(RBAC_GROUP),
  kind: z.enum(["Role", "ClusterRole"]),
  name: rbacNameSchema,
});

/** Who a binding grants to: a user name, a group, or a ServiceAccount (`system:serviceaccount:<ns>:<name>`). */
export const subjectSchema = z
  .object({
    kind: z.enum(["User", "Group", "ServiceAccount"]),
    name: z.string().min(1, "must not be empty"),
    namespace: z.string().optional(),
    apiGroup: z.string().optional(),
  })
  .superRefine((subject, context) => {
    const expected = subject.kind === "ServiceAccount" ? "" : RBAC_GROUP;
    if (subject.apiGroup !== undefined && subject.apiGroup !== expected) {
      context.addIssue({ code: "custom", path: ["apiGroup"], message: `must be "${expected}" for kind ${subject.kind}` });
    }
    if (subject.kind !== "ServiceAccount" && subject.namespace !== undefined && subject.namespace !== "") {
      context.addIssue({ code: "custom", path: ["namespace"], message: `must not be set for kind ${subject.kind}` });
    }
  });

const bindingFields = {
  metadata: rbacMetadataSchema,
  roleRef: roleRefSchema,
  subjects: z.array(subjectSchema).default([]),
};

/** RoleBinding: grants a Role of its namespace, or a ClusterRole, in its own namespace only. */
export const roleBindingSchema = z.object({
  apiVersion: z.literal(RBAC_API_VERSION),
  kind: z.literal("RoleBinding"),
  ...bindingFields,
});

/** ClusterRoleBinding: grants a ClusterRole in every namespace and at cluster scope. */
export const clusterRoleBindingSchema = z
  .object({
    apiVersion: z.literal(RBAC_API_VERSION),
    kind: z.literal("ClusterRoleBinding"),
    ...bindingFields,
  })
  .superRefine((binding, context) => {
    if (binding.roleRef.kind !== "ClusterRole") {
      context.addIssue({ code: "custom", path: ["roleRef", "kind"], message: "a ClusterRoleBinding can only reference a ClusterRole" });
    }
    binding.subjects.forEach((subject, index) => {
      if (subject.kind === "ServiceAccount" && (subject.namespace ?? "") === "") {
        context.addIssue({ code: "custom", path: ["subjects", index, "namespace"], message: "required for a ServiceAccount in a ClusterRoleBinding" });
      }
    });
  });

export type PolicyRule = z.infer<typeof policyRuleSchema>;
export type Role = z.infer<typeof roleSchema>;
export type ClusterRole = z.infer<typeof clusterRoleSchema>;
export type RoleRef = z.infer<typeof roleRefSchema>;
export type Subject = z.infer<typeof subjectSchema>;
export type RoleBinding = z.infer<typeof roleBindingSchema>;
export type ClusterRoleBinding = z.infer<typeof clusterRoleBindingSchema>;

/** Causes refusing an update that changes a binding's roleRef, which Kubernetes keeps immutable. */
export function roleRefUpdateCauses(next: { roleRef: RoleRef }, old: { roleRef: RoleRef } | undefined): FieldCause[] {
  if (old === undefined) return [];
  const same = old.roleRef.kind === next.roleRef.kind && old.roleRef.name === next.roleRef.name;
  if (same) return [];
  return [{ field: "roleRef", message: "cannot change roleRef; delete the binding and create a new one", reason: "FieldValueInvalid" }];
}

/** The request attributes of an access review (authorization.k8s.io/v1 ResourceAttributes). */
export const resourceAttributesSchema = z.looseObject({
  namespace: z.string().optional(),
  verb: z.string().min(1, "required, e.g. get"),
  group: z.string().optional(),
  version: z.string().optional(),
  resource: z.string().min(1, "required, e.g. clusters"),
  subresource: z.string().optional(),
  name: z.string().optional(),
});

/** The request attributes of an access review of a non-resource URL (`/metrics`), as Kubernetes' NonResourceAttributes. */
export const nonResourceAttributesSchema = z.looseObject({
  path: z.string().startsWith("/", "a URL path, e.g. /metrics"),
  verb: z.string().min(1, "required, e.g. get"),
});

/** A review asks about a resource or about a non-resource URL: exactly one of the two. */
const reviewAttributesSpec = {
  resourceAttributes: resourceAttributesSchema.optional(),
  nonResourceAttributes: nonResourceAttributesSchema.optional(),
};

function asksOneThing(spec: { resourceAttributes?: unknown; nonResourceAttributes?: unknown }): boolean {
  return (spec.resourceAttributes === undefined) !== (spec.nonResourceAttributes === undefined);
}

const ONE_THING = { error: "set resourceAttributes or nonResourceAttributes (exactly one)", path: ["resourceAttributes"] };

/** The answer of an access review. */
export const subjectAccessReviewStatusSchema = z.object({
  allowed: z.boolean(),
  denied: z.boolean().optional(),
  reason: z.string().optional(),
  evaluationError: z.string().optional(),
});

/** SelfSubjectAccessReview: "can I do this?", asked about the caller. */
export const selfSubjectAccessReviewSchema = z.object({
  apiVersion: z.literal("authorization.k8s.io/v1"),
  kind: z.literal("SelfSubjectAccessReview"),
  metadata: z.looseObject({}).optional(),
  spec: z.object(reviewAttributesSpec).refine(asksOneThing, ONE_THING),
  status: subjectAccessReviewStatusSchema.optional(),
});

/** SubjectAccessReview: "can this user (with these groups) do this?", asked by an administrator. */
export const subjectAccessReviewSchema = z.object({
  apiVersion: z.literal("authorization.k8s.io/v1"),
  kind: z.literal("SubjectAccessReview"),
  metadata: z.looseObject({}).optional(),
  spec: z
    .object({
      ...reviewAttributesSpec,
      user: z.string().optional(),
      groups: z.array(z.string()).optional(),
      uid: z.string().optional(),
    })
    .refine((spec) => (spec.user ?? "") !== "" || (spec.groups ?? []).length > 0, { error: "set user or groups", path: ["user"] })
    .refine(asksOneThing, ONE_THING),
  status: subjectAccessReviewStatusSchema.optional(),
});

export type ResourceAttributes = z.infer<typeof resourceAttributesSchema>;
export type NonResourceAttributes = z.infer<typeof nonResourceAttributesSchema>;
export type SubjectAccessReviewStatus = z.infer<typeof subjectAccessReviewStatusSchema>;
export type SelfSubjectAccessReview = z.infer<typeof selfSubjectAccessReviewSchema>;
export type SubjectAccessReview = z.infer<typeof subjectAccessReviewSchema>;
