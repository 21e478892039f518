/**
 * Which audit events the rules need, as signal events: every node keeps only these, so the leader is sent a small
 * fraction of the log (failures, denials, Secret reads, deletions of protected data, tokens, administrators' first
 * request from each address, database superuser logins the node agent read from a database's log).
 */
import type { SignalEvent } from "../api/index.ts";
import type { AuditEventRecord } from "../security/index.ts";

const PROTECTED = new Set(["backups", "backuprepos", "backuppolicies", "backupschedules", "auditevents"]);

/**
 * Remembers which (administrator, address) pairs this node already sent, so each is sent once per process. It runs on
 * every durable audit event: an event no rule reads costs a few field reads and lookups, and allocates nothing.
 */
export class SignalFilter {
  readonly #adminGroups: ReadonlySet<string>;
  /** Addresses already sent, by administrator. */
  readonly #sentSources = new Map<string, Set<string>>();

  constructor(adminGroups: readonly string[]) {
    this.#adminGroups = new Set(adminGroups);
  }

  /** The signal event of `record`, or undefined when no rule reads it. */
  signalOf(record: AuditEventRecord, node: string): SignalEvent | undefined {
    if (record.stage !== "ResponseComplete") return undefined;
    if (!isOfInterest(record) && !this.#firstAdminRequest(record)) return undefined;
    return toSignal(record, node);
  }

  #firstAdminRequest(record: AuditEventRecord): boolean {
    const { username, groups } = record.user;
    const source = record.sourceIPs[0] ?? "";
    if (this.#sentSources.get(username)?.has(source) === true || !this.#isAdmin(groups)) return false;
    const sent = this.#sentSources.get(username) ?? new Set<string>();
    sent.add(source);
    this.#sentSources.set(username, sent);
    return true;
  }

  #isAdmin(groups: readonly string[]): boolean {
    for (const group of groups) if (this.#adminGroups.has(group)) return true;
    return false;
  }
}

/** Failures, denials and tokens made for others: what the authentication and authorization rules read. */
function isAccessProblem(record: AuditEventRecord): boolean {
  const annotations = record.annotations;
  if (record.authentication?.outcome === "failure" || record.responseStatus.code === 403) return true;
  return annotations?.["authorization.k8s.io/decision"] === "forbid" || annotations?.["holdfast.io/acting-for"] !== undefined;
}

function isOfInterest(record: AuditEventRecord): boolean {
  if (isAccessProblem(record)) return true;
  const ref = record.objectRef;
  const resource = ref?.resource ?? "";
  if (resource === "secrets" && (ref?.apiGroup ?? "") === "") return true;
  if (resource === "instances" && ref?.subresource === "login") return true;
  return record.verb.startsWith("delete") && PROTECTED.has(resource);
}

/** The fields of `source` whose value is defined (the schema's optional fields are absent, never undefined). */
function defined<T extends object>(source: T): Partial<T> {
  return Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function toSignal(record: AuditEventRecord, node: string): SignalEvent {
  const ref = record.objectRef;
  const optional = defined({
    resource: ref?.resource,
    apiGroup: ref?.apiGroup,
    namespace: ref?.namespace,
    name: ref?.name,
    subresource: ref?.subresource,
    decision: record.annotations?.["authorization.k8s.io/decision"],
    authentication: record.authentication,
    actingFor: record.annotations?.["holdfast.io/acting-for"],
  });
  const required = { auditID: record.auditID, time: record.stageTimestamp, node, username: record.user.username, groups: record.user.groups, sourceIP: record.sourceIPs[0] ?? "", verb: record.verb, code: record.responseStatus.code };
  return { ...optional, ...required };
}
