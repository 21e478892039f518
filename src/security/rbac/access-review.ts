/** Access reviews (authorization.k8s.io/v1) and can-i answers, built on the authorizer. */
import type { NonResourceAttributes, ResourceAttributes, SelfSubjectAccessReview, SubjectAccessReview, SubjectAccessReviewStatus } from "../../api/index.ts";
import { InvalidError } from "../../errors/index.ts";
import type { Decision, RequestAttributes } from "../identity.ts";
import type { Authorizer } from "./authorizer.ts";
import type { Requester } from "./policy-snapshot.ts";

/** The request attributes a review asks about; Kubernetes' empty strings mean "not set". */
export function attributesFromReview(attributes: ResourceAttributes): RequestAttributes {
  const optional = (value: string | undefined): string | undefined => (value === undefined || value === "" ? undefined : value);
  const subresource = optional(attributes.subresource);
  const namespace = optional(attributes.namespace);
  const name = optional(attributes.name);
  return {
    verb: attributes.verb,
    apiGroup: attributes.group ?? "",
    resource: attributes.resource,
    ...(subresource === undefined ? {} : { subresource }),
    ...(namespace === undefined ? {} : { namespace }),
    ...(name === undefined ? {} : { name }),
  };
}

/** What a review asks about: a resource, or a non-resource URL (`/metrics`), matched against nonResourceURLs only. */
export function reviewedAttributes(spec: { resourceAttributes?: ResourceAttributes | undefined; nonResourceAttributes?: NonResourceAttributes | undefined }): RequestAttributes {
  if (spec.resourceAttributes !== undefined) return attributesFromReview(spec.resourceAttributes);
  if (spec.nonResourceAttributes === undefined) throw new InvalidError("an access review sets resourceAttributes or nonResourceAttributes");
  const { verb, path } = spec.nonResourceAttributes;
  return { verb, apiGroup: "", resource: "", path };
}

/** The review status for a decision. RBAC only ever allows or has no opinion, so `denied` stays unset. */
export function reviewStatus(decision: Decision): SubjectAccessReviewStatus {
  return { allowed: decision.allowed, reason: decision.reason };
}

/** Answer a SelfSubjectAccessReview for the caller: the same review with `status` filled in. */
export async function reviewSelfAccess(authorizer: Authorizer, requester: Requester, review: SelfSubjectAccessReview): Promise<SelfSubjectAccessReview> {
  const decision = await authorizer.authorize(requester, reviewedAttributes(review.spec));
  return { ...review, status: reviewStatus(decision) };
}

/** Answer a SubjectAccessReview about `spec.user` and `spec.groups` (the caller must be allowed to create it). */
export async function reviewSubjectAccess(authorizer: Authorizer, review: SubjectAccessReview): Promise<SubjectAccessReview> {
  const requester: Requester = { username: review.spec.user ?? "", groups: review.spec.groups ?? [] };
  const decision = await authorizer.authorize(requester, reviewedAttributes(review.spec));
  return { ...review, status: reviewStatus(decision) };
}

/** A can-i answer, as `kubectl auth can-i` prints it: `yes` or `no`, then why. */
export function describeDecision(decision: Decision): string {
  return `${decision.allowed ? "yes" : "no"} - ${decision.reason}`;
}
