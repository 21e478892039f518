/** Security services: secret encryption at rest (authentication, RBAC and audit join here as they land). */
export * from "./secrets/index.ts";
