/** The contract of admission: per-kind validation and defaulting, applied before the store. */
import type { z } from "zod";
import type { KindInfo, Resource } from "../../api/index.ts";
import type { FieldCause } from "../../errors/index.ts";
import type { Authorizer, Requester } from "../../security/index.ts";
import type { Store } from "../../store/index.ts";
import type { EngineLookup } from "../engine-lookup.ts";
import type { ObjectReference } from "./references.ts";

/** What admission rules may read. */
export interface AdmissionContext {
  store: Store;
  engines: EngineLookup;
  /** Decides whether a requester holds what an RBAC object would grant (escalation prevention). */
  authorizer: Authorizer;
}

/** Admission for one kind. Every step is optional; the pipeline runs them in a fixed order. */
export interface KindAdmitter {
  /** When set, users may only read this kind; writes are refused with this message (405). */
  readOnly?: string;
  /** The object carries secrets: error messages never repeat its values. */
  sensitive?: boolean;
  /** Parses and defaults the whole object; the parsed value is what gets stored. */
  schema?: z.ZodType;
  /** Rewrites a parsed object into its stored form (e.g. Secret `stringData` → `data`). */
  normalize?(object: Resource, old: Resource | undefined): Resource;
  /**
   * The objects this one names (a restore's Backup, a repository's credential Secret): the requester must be allowed
   * to `get` each new one, and it must exist (references.ts). Must not throw, even on an old object stored long ago.
   */
  references?(object: Resource): ObjectReference[];
  /** Semantic rules on create (old undefined) and update; each problem is a field cause. */
  validate?(object: Resource, old: Resource | undefined, context: AdmissionContext): Promise<FieldCause[]>;
  /** A check of the requester against the admitted object (e.g. RBAC escalation); throws ForbiddenError to refuse. */
  checkRequester?(object: Resource, requester: Requester, context: AdmissionContext): Promise<void>;
  /** Policy check before a delete; throws (ForbiddenError) to refuse. */
  validateDelete?(object: Resource, context: AdmissionContext): Promise<void>;
}

/** Admitters by Kind name. Kinds without an entry are stored as sent (after the generic checks). */
export type AdmitterRegistry = ReadonlyMap<string, KindAdmitter>;

/** Where a write came from: the path's kind, namespace and name. */
export interface WriteTarget {
  kind: KindInfo;
  namespace?: string | undefined;
  name?: string | undefined;
  /** `status`: only the status subresource is written, so spec rules do not run. */
  subresource?: "status" | undefined;
  /** Who writes; absent only for writes the control plane makes itself. */
  requester?: Requester | undefined;
  /** Fields the kind does not have: Strict refuses the write, Warn (default) and Ignore drop them. */
  fieldValidation?: "Strict" | "Warn" | "Ignore" | undefined;
  /** Admission appends what the client should be told (unknown fields, fields not honoured); sent as `Warning` headers. */
  warnings?: string[] | undefined;
}
