/**
 * Database (holdfast.io/v1): a database on the server of one cluster component, declared beside the Cluster as
 * CloudNativePG's `Database` declares one (ADR 0053): its name, owner (a DatabaseUser's account or the administrator),
 * encoding and locale (fixed once created), connection limit and whether it accepts connections, whether it is to be
 * present or absent, and what deleting the object does to it (`databaseReclaimPolicy`). The node agent of the
 * component's primary applies it through the engine; the engine says which encodings and locales it takes.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { metadataSchema } from "./common.ts";

/** The apiVersion of Database. */
export const DATABASE_API_VERSION = "holdfast.io/v1";
/** Finalizer held until the primary dropped (reclaim policy delete) or let go of (retain) the database. */
export const DATABASE_FINALIZER = "holdfast.io/database";

/** A database name every engine with named databases takes (quoted in SQL): letters, digits, `_`, `$` and `-`. */
export const databaseNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/, "must be 1 to 63 letters, digits, '_', '$' and '-', starting with a letter or '_'");

/**
 * CloudNativePG's Database fields Holdfast does not honour, and why: accepted by the schema only so that admission
 * refuses them by name (unknown fields would be pruned with a mere warning).
 */
export const UNSUPPORTED_DATABASE_FIELDS: Readonly<Record<string, string>> = {
  cluster: "name the cluster with clusterName (and its component with componentName)",
  template: "databases are always created from template0",
  isTemplate: "a declared database is never a template",
  tablespace: "tablespaces are not managed",
  lcCollate: "use locale (it sets LC_COLLATE and LC_CTYPE together)",
  lcCtype: "use locale (it sets LC_COLLATE and LC_CTYPE together)",
  localeProvider: "only the libc locales of the allow-list are supported",
  icuLocale: "ICU locales are not supported",
  icuRules: "ICU locales are not supported",
  builtinLocale: "only the libc locales of the allow-list are supported",
  collationVersion: "the collation version is the server's",
  schemas: "schemas are not managed",
  extensions: "extensions are not managed",
  fdws: "foreign data wrappers are not managed",
  servers: "foreign servers are not managed",
};

const unsupportedShape = Object.fromEntries(Object.keys(UNSUPPORTED_DATABASE_FIELDS).map((f) => [f, z.unknown().optional()]));

export const databaseSpecSchema = z.strictObject({
  ...unsupportedShape,
  /** The Cluster (same namespace) and its component whose server holds the database. */
  clusterName: z.string().min(1, "must not be empty"),
  componentName: z.string().min(1, "must not be empty"),
  /** The database's name on the server. */
  name: databaseNameSchema,
  /** The owning account: a DatabaseUser's username of the component, or the administrator (the default). */
  owner: z.string().min(1, "must not be empty").optional(),
  /** present: created (or updated) as specified; absent: dropped if it exists. */
  ensure: z.enum(["present", "absent"]).default("present"),
  /** What deleting the object does: retain (default) leaves the database on the server; delete drops it. */
  databaseReclaimPolicy: z.enum(["retain", "delete"]).default("retain"),
  /** Character set, from the engine's allow-list; fixed at creation. Absent: the server's default. */
  encoding: z.string().min(1, "must not be empty").optional(),
  /** Collation and character classification, from the engine's allow-list; fixed at creation. Absent: the server's default. */
  locale: z.string().min(1, "must not be empty").optional(),
  /** Most concurrent connections; -1 (default): no limit. */
  connectionLimit: z.int().min(-1, "must be -1 (no limit) or more").max(100_000, "must be at most 100000").default(-1),
  /** false: nobody connects to it (the engine's own maintenance aside). Default true. */
  allowConnections: z.boolean().default(true),
});

export const databaseStatusSchema = z.object({
  /** Pending (not applied yet), Ready (the primary has it as specified), Failed (the primary could not), Deleting. */
  phase: z.enum(["Pending", "Ready", "Deleting", "Failed"]).optional(),
  message: z.string().optional(),
  observedGeneration: z.int().optional(),
  /** The instance that applied the spec as it is now (the primary). */
  appliedOn: z.array(z.string()).optional(),
});

/** Database: see the module comment. */
export const databaseSchema = z.object({
  apiVersion: z.literal(DATABASE_API_VERSION),
  kind: z.literal("Database"),
  metadata: metadataSchema,
  spec: databaseSpecSchema,
  status: databaseStatusSchema.optional(),
});

export type Database = z.infer<typeof databaseSchema>;
export type DatabaseSpec = z.infer<typeof databaseSpecSchema>;
export type DatabaseStatus = z.infer<typeof databaseStatusSchema>;

/** The fields the engine applies. */
export type ServerDatabase = Pick<DatabaseSpec, "name" | "owner" | "ensure" | "encoding" | "locale" | "connectionLimit" | "allowConnections">;

/**
 * A digest of what the Database asks the server for (its identity and the fields applied): the node agent records
 * it in `Instance.status.managedDatabases` once applied, the controller compares.
 */
export function databaseSpecDigest(database: Pick<Database, "metadata" | "spec">): string {
  const s = database.spec;
  const applied = [database.metadata.uid ?? "", s.name, s.owner ?? "", s.ensure, s.encoding ?? "", s.locale ?? "", s.connectionLimit, s.allowConnections];
  return createHash("sha256").update(JSON.stringify(applied)).digest("hex").slice(0, 16);
}

/** The separator of a failure in a record: `<digest>!<reason>` (the digest applied failed, and why). */
export const DATABASE_FAILED_MARK = "!";
