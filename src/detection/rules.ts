/**
 * The detection rules: each reads one signal event (an audit event of interest) against the detector's state and
 * returns what it found. Pure: no store, no clock but the event's own time.
 */
import type { SignalEvent } from "../api/index.ts";
import { adminFromNewSource, secretReadsAnomaly } from "./baseline-rules.ts";
import { findingOf as base, type DetectionRule, type Finding } from "./finding.ts";
import type { DetectionSettings } from "./settings.ts";
import { slide, type DetectorState, type WindowEntry } from "./state.ts";

const TOTP_FAILURES = new Set(["bad-totp", "totp-replayed"]);
const RBAC_RESOURCES = new Set(["roles", "rolebindings", "clusterroles", "clusterrolebindings"]);
const PROTECTED_DATA = new Set(["backups", "backuprepos", "backuppolicies", "backupschedules", "auditevents"]);
const WRITE_VERBS = new Set(["create", "update", "patch", "delete", "deletecollection", "bind", "escalate", "impersonate"]);
/** Login refused to a disabled user; a bearer that was revoked, or whose user is disabled (the access step says which). */
const REVOKED_REASONS = new Set(["disabled", "disabled user", "revoked token"]);

function timeOf(event: SignalEvent): number {
  return Date.parse(event.time);
}

function entryOf(event: SignalEvent, k?: string): WindowEntry {
  return k === undefined ? { t: timeOf(event), id: event.auditID } : { t: timeOf(event), id: event.auditID, k };
}

function isLoginFailure(event: SignalEvent): boolean {
  return event.authentication?.outcome === "failure" && event.resource === "sessions" && event.verb === "create";
}

/** A windowed count: fires (again) on every event once the window holds `threshold` of them. */
function windowed(
  rule: DetectionRule,
  event: SignalEvent,
  state: DetectorState,
  options: { subject: string; threshold: number; windowSeconds: number; cap: number; summary: (n: number) => string; distinct?: { of: string; minimum: number } },
): Finding[] {
  const window = slide(state, `${rule.id}|${options.subject}`, entryOf(event, options.distinct?.of), options.windowSeconds * 1000, options.cap);
  if (window.length < options.threshold) return [];
  if (options.distinct !== undefined && new Set(window.map((e) => e.k)).size < options.distinct.minimum) return [];
  const finding = base(rule, event, options.subject, options.summary(window.length));
  finding.auditIDs = window.map((e) => e.id);
  finding.samples = [{ name: `events in ${options.windowSeconds}s`, value: window.length }];
  return [finding];
}

/** A rule that counts matching events per subject in a sliding window and fires from `threshold` on. */
function windowRule(definition: {
  id: string;
  description: string;
  severity: DetectionRule["severity"];
  matches: (event: SignalEvent) => boolean;
  window: (settings: DetectionSettings) => { threshold: number; windowSeconds: number; minAccounts?: number };
  subject: (event: SignalEvent) => string;
  summary: (event: SignalEvent, n: number, windowSeconds: number) => string;
}): DetectionRule {
  const rule: DetectionRule = {
    id: definition.id,
    description: definition.description,
    severity: definition.severity,
    evaluate(event, state, settings) {
      if (!definition.matches(event)) return [];
      const { threshold, windowSeconds, minAccounts } = definition.window(settings);
      return windowed(rule, event, state, {
        subject: definition.subject(event),
        threshold,
        windowSeconds,
        cap: settings.maxEvidence,
        ...(minAccounts === undefined ? {} : { distinct: { of: event.username, minimum: minAccounts } }),
        summary: (n) => definition.summary(event, n, windowSeconds),
      });
    },
  };
  return rule;
}

const loginFailuresPerAccount = windowRule({
  id: "login-failures-account",
  description: "Repeated failed logins for one account (password guessing)",
  severity: "high",
  matches: isLoginFailure,
  window: (settings) => settings.loginFailuresPerAccount,
  subject: (event) => `user:${event.username}`,
  summary: (event, n, seconds) => `${n} failed logins for account ${event.username} within ${seconds}s`,
});

const loginFailuresPerSource = windowRule({
  id: "login-failures-source",
  description: "Repeated failed logins from one source address against several accounts (password spraying); one account's are login-failures-account",
  severity: "high",
  matches: isLoginFailure,
  window: (settings) => settings.loginFailuresPerSource,
  subject: (event) => `source:${event.sourceIP}`,
  summary: (event, n, seconds) => `${n} failed logins from ${event.sourceIP} against several accounts within ${seconds}s`,
});

const totpFailures = windowRule({
  id: "totp-failures",
  description: "Wrong or replayed TOTP codes after a correct password: the password is known to someone",
  severity: "high",
  matches: (event) => isLoginFailure(event) && TOTP_FAILURES.has(event.authentication?.reason ?? ""),
  window: (settings) => settings.totpFailures,
  subject: (event) => `user:${event.username}`,
  summary: (event, n, seconds) => `${n} TOTP failures after a correct password for ${event.username} within ${seconds}s`,
});

const authorizationDenials = windowRule({
  id: "authorization-denials",
  description: "A burst of authorization denials for one user (probing for permissions)",
  severity: "medium",
  matches: (event) => event.decision === "forbid",
  window: (settings) => settings.authorizationDenials,
  subject: (event) => `user:${event.username}`,
  summary: (event, n, seconds) => `${n} authorization denials for ${event.username} within ${seconds}s`,
});

function isEscalationAttempt(event: SignalEvent): boolean {
  const rbacWrite = RBAC_RESOURCES.has(event.resource ?? "") && WRITE_VERBS.has(event.verb);
  const tokenForOther = event.resource === "apitokens" && event.verb === "create";
  return event.code === 403 && (rbacWrite || tokenForOther);
}

function objectOf(event: SignalEvent, kind: string, name: string): Finding["objects"][number] {
  return { kind, name, ...(event.namespace === undefined ? {} : { namespace: event.namespace }) };
}

const rbacEscalation: DetectionRule = {
  id: "rbac-escalation",
  description: "An attempt to grant more than one holds: a refused write of a role or binding, or a refused token for another user",
  severity: "high",
  evaluate(event) {
    if (!isEscalationAttempt(event)) return [];
    const resource = event.resource ?? "";
    const what = [event.verb, resource, event.name, event.namespace === undefined ? undefined : `in ${event.namespace}`].filter((part) => part !== undefined).join(" ");
    const finding = base(this, event, `user:${event.username}`, `${event.username} was refused ${what}: more than they hold`);
    if (event.name !== undefined) finding.objects = [objectOf(event, resource, event.name)];
    return [finding];
  },
};

const tokenForAnotherUser: DetectionRule = {
  id: "token-for-another-user",
  description: "An API token created for another user (it carries that user's permissions)",
  severity: "medium",
  evaluate(event) {
    if (event.resource !== "apitokens" || event.verb !== "create" || event.code >= 300 || event.actingFor === undefined) return [];
    const finding = base(this, event, `user:${event.username}->${event.actingFor}`, `${event.username} created an API token for ${event.actingFor}`);
    finding.users = [...new Set([...finding.users, event.actingFor])];
    return [finding];
  },
};

const revokedCredentialUsed: DetectionRule = {
  id: "revoked-credential-used",
  description: "A disabled user tried to log in, or a revoked token or a disabled user's credential was presented",
  severity: "high",
  evaluate(event) {
    if (event.authentication?.outcome !== "failure" || !REVOKED_REASONS.has(event.authentication.reason ?? "")) return [];
    const reason = event.authentication.reason ?? "";
    return [base(this, event, `user:${event.username}`, `${event.username}: ${reason} credential still tried from ${event.sourceIP}`)];
  },
};

const protectedDataDeleted: DetectionRule = {
  id: "backup-or-audit-deleted",
  description: "Backups, their repositories, policies or schedules, or audit data deleted",
  severity: "high",
  evaluate(event) {
    if (!event.verb.startsWith("delete") || !PROTECTED_DATA.has(event.resource ?? "") || event.code >= 300) return [];
    const name = event.name ?? "(collection)";
    const finding = base(this, event, `user:${event.username}`, `${event.username} deleted ${event.resource ?? ""} ${name}${event.namespace === undefined ? "" : ` in ${event.namespace}`}`);
    finding.objects = [objectOf(event, event.resource ?? "", name)];
    return [finding];
  },
};

const auditIntegrity: DetectionRule = {
  id: "audit-integrity",
  description: "The audit log cannot be written, or its file was cut short or replaced behind the server's back",
  severity: "critical",
  evaluate(event) {
    if (event.auditProblem === undefined) return [];
    const summary = event.auditProblem === "write-failed" ? `the audit log of node ${event.node} cannot be written` : `the audit log of node ${event.node} was cut short or replaced`;
    const finding = base(this, event, `node:${event.node}`, summary);
    finding.users = [];
    finding.objects = [{ kind: "Node", name: event.node }];
    return [finding];
  },
};

/** A login to a database the node agent read from its log: a superuser's not made by Holdfast, or one the server refused. */
function isDatabaseLogin(event: SignalEvent): boolean {
  return event.verb === "login" && event.resource === "instances" && event.subresource === "login" && event.apiGroup === "holdfast.io";
}

function isDatabaseSuperuserLogin(event: SignalEvent): boolean {
  return isDatabaseLogin(event) && event.authentication?.outcome !== "failure";
}

function accountOf(event: SignalEvent): string {
  return event.username.replace(/^database:/, "");
}

const databaseLoginFailures = windowRule({
  id: "database-login-failures",
  description: "Repeated logins a database refused for one of its accounts (password guessing against the database), read from the database's own log",
  severity: "high",
  matches: (event) => isDatabaseLogin(event) && event.authentication?.outcome === "failure",
  window: (settings) => settings.databaseLoginFailures,
  subject: (event) => `instance:${event.namespace ?? ""}/${event.name ?? ""}|account:${accountOf(event)}`,
  summary: (event, n, seconds) => `${n} logins as ${accountOf(event)} refused by instance ${event.namespace ?? ""}/${event.name ?? ""} within ${seconds}s (last from ${event.sourceIP || "an unknown address"})`,
});

const databaseSuperuserLogin = windowRule({
  id: "database-superuser-login",
  description: "A login of a database's superuser account that Holdfast's node agent did not make, read from the database's own log",
  severity: "high",
  matches: isDatabaseSuperuserLogin,
  window: (settings) => settings.databaseSuperuserLogins,
  subject: (event) => `instance:${event.namespace ?? ""}/${event.name ?? ""}`,
  summary: (event, n, seconds) => `${n} login(s) of ${accountOf(event)} to instance ${event.namespace ?? ""}/${event.name ?? ""} from ${event.sourceIP || "an unknown address"} within ${seconds}s, not made by Holdfast`,
});

/** Every rule, in the order they run. */
export const DETECTION_RULES: readonly DetectionRule[] = [
  loginFailuresPerAccount,
  loginFailuresPerSource,
  totpFailures,
  authorizationDenials,
  secretReadsAnomaly,
  rbacEscalation,
  tokenForAnotherUser,
  revokedCredentialUsed,
  protectedDataDeleted,
  auditIntegrity,
  adminFromNewSource,
  databaseSuperuserLogin,
  databaseLoginFailures,
];

/** Run every rule over one event. */
export function evaluateRules(event: SignalEvent, state: DetectorState, settings: DetectionSettings): Finding[] {
  return DETECTION_RULES.flatMap((rule) => rule.evaluate(event, state, settings));
}
