/** Security services: secret encryption at rest, and the shapes shared by authentication, RBAC and audit. */
export * from "./secrets/index.ts";
export * from "./identity.ts";
export * from "./tls/index.ts";
export * from "./rbac/index.ts";
export * from "./audit/index.ts";
export * from "./authn/index.ts";
export * from "./shared-security.ts";
