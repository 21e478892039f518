/** Access reviews, as Kubernetes serves them: "may I?" for anyone signed in, "may they?" with RBAC permission. */
import { selfSubjectAccessReviewSchema, subjectAccessReviewSchema } from "../../api/index.ts";
import { AUTHENTICATED_GROUP, reviewSelfAccess, reviewSubjectAccess, type AuthService } from "../../security/index.ts";
import type { Endpoint } from "../endpoint.ts";
import { MethodNotAllowedError } from "../http-errors.ts";
import { AUTHORIZATION_GROUP, ok, parseBody, rbac, selfService, type SecurityServices } from "./services.ts";

/** POST selfsubjectaccessreviews. */
export function selfReviewEndpoint(services: SecurityServices, method: string): Endpoint {
  requirePost(method, "selfsubjectaccessreviews");
  return {
    permission: () => selfService({ verb: "create", apiGroup: AUTHORIZATION_GROUP, resource: "selfsubjectaccessreviews" }, "anyone signed in may ask what they may do"),
    run: async (exchange) => {
      const review = await parseBody(exchange, selfSubjectAccessReviewSchema, "SelfSubjectAccessReview");
      return ok(await reviewSelfAccess(services.authorizer, exchange.identity, review), 201);
    },
  };
}

/** POST subjectaccessreviews: about another user; without `spec.groups`, the user's own groups are used. */
export function subjectReviewEndpoint(services: SecurityServices, method: string): Endpoint {
  requirePost(method, "subjectaccessreviews");
  return {
    permission: () => rbac({ verb: "create", apiGroup: AUTHORIZATION_GROUP, resource: "subjectaccessreviews" }),
    run: async (exchange) => {
      const review = await parseBody(exchange, subjectAccessReviewSchema, "SubjectAccessReview");
      const groups = review.spec.groups ?? (await groupsOf(services.auth, review.spec.user ?? ""));
      return ok(await reviewSubjectAccess(services.authorizer, { ...review, spec: { ...review.spec, groups } }), 201);
    },
  };
}

async function groupsOf(auth: AuthService, username: string): Promise<string[]> {
  const user = (await auth.listUsers()).find((u) => u.username === username);
  return user === undefined ? [] : [...new Set([...user.groups, AUTHENTICATED_GROUP])];
}

function requirePost(method: string, resource: string): void {
  if (method !== "POST") throw new MethodNotAllowedError(`${method} is not allowed on ${resource}; POST a review`);
}
