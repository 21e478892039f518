/**
 * DatabaseUser (holdfast.io/v1): an application user of one cluster component, declared beside the Cluster (whose
 * KubeBlocks schema stays as it is), as CloudNativePG's `managed.roles` declares roles (ADR 0046). Its password lives
 * in a Secret of the cluster (encrypted at rest, rotated as the system accounts are, ADR 0038); its grants are a list
 * the component's engine validates at admission and applies on its servers through the node agent.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { metadataSchema } from "./common.ts";

/** The apiVersion of DatabaseUser. */
export const DATABASE_USER_API_VERSION = "holdfast.io/v1";
/** Finalizer held until the user is dropped from the servers of its component. */
export const DATABASE_USER_FINALIZER = "holdfast.io/database-user";
/** Label on the user's password Secret naming its DatabaseUser. */
export const DATABASE_USER_LABEL = "holdfast.io/database-user";

/**
 * An account name every engine takes as is: lower case letters, digits, `_` and `-`, starting with a letter and
 * ending with a letter or digit (a label value too, as the Secret's account label carries it).
 */
export const databaseUsernameSchema = z
  .string()
  .max(63, "must be no more than 63 characters")
  .regex(/^[a-z][a-z0-9_-]*$/, "must be lower case letters, digits, '_' and '-', starting with a letter and ending with a letter or digit")
  .refine((name) => /[a-z0-9]$/.test(name), "must end with a letter or digit");

/** The user-given password: a key of a Secret in the user's namespace, checked against the password policy. */
export const passwordSecretRefSchema = z.strictObject({
  name: z.string().min(1, "must not be empty"),
  key: z.string().min(1, "must not be empty").default("password"),
});

export const databaseUserSpecSchema = z.strictObject({
  /** The Cluster (same namespace) and its component whose servers hold the user. */
  clusterName: z.string().min(1, "must not be empty"),
  componentName: z.string().min(1, "must not be empty"),
  /** The account name on the servers. */
  username: databaseUsernameSchema,
  /** Absent: a password is generated (KubeBlocks' policy). Read once, when the user's Secret is created. */
  passwordSecretRef: passwordSecretRefSchema.optional(),
  /** What the user may do: a typed list the component's engine validates (ADR 0046); empty: log in only. */
  grants: z.array(z.record(z.string(), z.unknown())).default([]),
});

export const databaseUserStatusSchema = z.object({
  /** Pending (not applied yet), Ready (every server holding it has it as specified), Deleting. */
  phase: z.enum(["Pending", "Ready", "Deleting", "Failed"]).optional(),
  message: z.string().optional(),
  observedGeneration: z.int().optional(),
  /** The Secret with `username` and `password` (never a value here). */
  secretName: z.string().optional(),
  /** The instances that have the user as specified. */
  appliedOn: z.array(z.string()).optional(),
});

/** DatabaseUser: see the module comment. */
export const databaseUserSchema = z.object({
  apiVersion: z.literal(DATABASE_USER_API_VERSION),
  kind: z.literal("DatabaseUser"),
  metadata: metadataSchema,
  spec: databaseUserSpecSchema,
  status: databaseUserStatusSchema.optional(),
});

export type DatabaseUser = z.infer<typeof databaseUserSchema>;
export type DatabaseUserStatus = z.infer<typeof databaseUserStatusSchema>;

/** The name of a DatabaseUser's password Secret. */
export function databaseUserSecretName(user: Pick<DatabaseUser, "metadata" | "spec">): string {
  return `${user.spec.clusterName}-${user.spec.componentName}-user-${user.metadata.name}`;
}

/**
 * A digest of what a DatabaseUser asks the servers for (its identity, account and grants): the node agent records it
 * (with the password generation and process it applied to) in `Instance.status.managedUsers`, the controller compares.
 */
export function databaseUserSpecDigest(user: Pick<DatabaseUser, "metadata" | "spec">): string {
  return createHash("sha256").update(JSON.stringify([user.metadata.uid ?? "", user.spec.username, user.spec.grants])).digest("hex").slice(0, 16);
}
