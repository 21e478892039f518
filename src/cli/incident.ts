/** `holdfast incident`: list, describe, acknowledge, contain and resolve security incidents (each an audited request). */
import { DETECTION_NAMESPACE, findKind, incidentSchema, type Incident } from "../api/index.ts";
import { CliError, expectPositionals, stringFlag } from "./args.ts";
import type { FlagValues, ParsedArgs } from "./args.ts";
import { clientOf } from "./context.ts";
import type { CliContext } from "./context.ts";
import { formatAge, formatTable, toJson, toYaml } from "./output.ts";
import { OUTPUT_FLAG, outputOf, runGroup, type CommandGroup } from "./subcommands.ts";

export const INCIDENT_HELP = `Security incidents opened by the detection rules over the audit log (namespace ${DETECTION_NAMESPACE}).

Usage:
  holdfast incident list [-o json|yaml]
  holdfast incident describe NAME [-o json|yaml]
  holdfast incident ack NAME [--message TEXT]
  holdfast incident contain NAME [--disable-user U]... [--revoke-sessions U]... [--revoke-token ID]... [--rotate-credentials NS/CLUSTER]...
                                 [--freeze-namespace NS]... [--unfreeze-namespace NS]... [--message TEXT]
  holdfast incident resolve NAME [--message TEXT]

An incident goes Open → Acknowledged → Contained → Resolved; every action is recorded in the
audit log and in the incident's timeline with who did it. See docs/incident-response.md.

Examples:
  holdfast incident list
  holdfast incident describe login-failures-account-20261206094500-1a2b
  holdfast incident contain login-failures-account-20261206094500-1a2b --disable-user mallory --revoke-sessions mallory
  holdfast incident resolve login-failures-account-20261206094500-1a2b --message "password reset, user informed"
`;

const LIST_HELP = `List incidents, newest first.

Usage:
  holdfast incident list [-o json|yaml]
`;

const DESCRIBE_HELP = `Show an incident: its rule, severity, evidence (audit IDs), affected users and objects, timeline and notifications.

Usage:
  holdfast incident describe NAME [-o json|yaml]

Read the evidence with: holdfast audit list (the audit IDs), and keep it with holdfast audit export.
`;

const ACK_HELP = `Acknowledge an Open incident: someone is on it.

Usage:
  holdfast incident ack NAME [--message TEXT]
`;

const RESOLVE_HELP = `Resolve an incident: it is closed; a new firing of its rule opens a new incident.

Usage:
  holdfast incident resolve NAME [--message TEXT]
`;

const CONTAIN_HELP = `Contain an incident: each step is checked against your own permissions (as if you did it directly),
runs at once on every control-plane node, and is written in the incident's timeline.

Usage:
  holdfast incident contain NAME [flags]

Options:
      --disable-user USER        Disable USER: sessions end, API tokens are refused until enabled again
      --revoke-sessions USER     End every session of USER and revoke every API token they own
      --revoke-token ID          Revoke one API token (and the tokens made with it)
      --freeze-namespace NS      Make NS read-only for everyone but cluster administrators
      --unfreeze-namespace NS    Undo --freeze-namespace
      --rotate-credentials NS/CLUSTER
                                 New passwords for every system account of the cluster, applied online; the old
                                 ones are refused once every running instance has the new ones (see
                                 holdfast cluster rotate-password)
      --message TEXT             A note for the timeline
Each flag may be given several times.

Example:
  holdfast incident contain NAME --disable-user mallory --revoke-sessions mallory
`;

const INCIDENTS_PATH = `/apis/holdfast.io/v1/namespaces/${DETECTION_NAMESPACE}/incidents`;
const MESSAGE_FLAG = { message: { type: "string" } } as const;
const MANY = { type: "string", multiple: true } as const;

function incidentOf(raw: unknown): Incident {
  const parsed = incidentSchema.safeParse(raw);
  if (!parsed.success) throw new CliError("the server answered with something that is not an Incident");
  return parsed.data;
}

function printed(value: unknown, format: "json" | "yaml"): string {
  return format === "json" ? toJson(value) : toYaml(value);
}

async function runList(ctx: CliContext, args: ParsedArgs): Promise<number> {
  expectPositionals(args, [], "incident list");
  const format = outputOf(args.values, ["json", "yaml"], "incident list");
  const info = findKind("incidents.holdfast.io");
  if (info === undefined) throw new CliError("this client does not know incidents");
  const list = await clientOf(ctx, args.values).list(info, DETECTION_NAMESPACE);
  if (format !== "table") {
    ctx.io.out(printed(list, format));
    return 0;
  }
  const incidents = list.items.map(incidentOf).sort((a, b) => (b.status?.lastSeen ?? "").localeCompare(a.status?.lastSeen ?? ""));
  if (incidents.length === 0) {
    ctx.io.err(`No incidents in ${DETECTION_NAMESPACE}.\n`);
    return 0;
  }
  const now = ctx.now();
  const rows = incidents.map((i) => [i.metadata.name, i.spec.severity, i.status?.state ?? "", i.spec.rule, String(i.status?.firings ?? 0), formatAge(i.status?.lastSeen, now), i.spec.summary]);
  ctx.io.out(formatTable(["NAME", "SEVERITY", "STATE", "RULE", "FIRINGS", "LAST-SEEN", "SUMMARY"], rows));
  return 0;
}

function objectName(object: { kind: string; name: string; namespace?: string | undefined }): string {
  return `${object.kind}/${object.namespace === undefined ? "" : `${object.namespace}/`}${object.name}`;
}

function listed(values: readonly string[]): string {
  return values.length === 0 ? "-" : values.join(", ");
}

function evidenceLine(auditIDs: readonly string[]): string {
  const newest = auditIDs.slice(-5).join(", ");
  return `${auditIDs.length} audit event(s): ${newest}${auditIDs.length > 5 ? ", …" : ""}`;
}

function deliveryLine(n: NonNullable<Incident["status"]>["notifications"][number]): string {
  const code = n.statusCode === undefined ? "" : ` (${n.statusCode})`;
  return `  ${n.time}  ${n.channel}  attempt ${n.attempt}  ${n.outcome}${code}${n.message === undefined ? "" : `  ${n.message}`}`;
}

/** The human view of one incident. */
export function describeIncident(incident: Incident): string {
  const status = incident.status ?? { state: "Unknown", firings: 0, firstSeen: "-", lastSeen: "-", affectedUsers: [], sourceAddresses: [], affectedObjects: [], evidence: { auditIDs: [] }, timeline: [], notifications: [] };
  const lines = [
    `Name:        ${incident.metadata.name}`,
    `Rule:        ${incident.spec.rule}`,
    `Severity:    ${incident.spec.severity}`,
    `State:       ${status.state}`,
    `Summary:     ${incident.spec.summary}`,
    `Subject:     ${incident.spec.subject}`,
    `Firings:     ${status.firings} (first ${status.firstSeen}, last ${status.lastSeen})`,
    `Users:       ${listed(status.affectedUsers)}`,
    `Addresses:   ${listed(status.sourceAddresses)}`,
    `Objects:     ${listed(status.affectedObjects.map(objectName))}`,
    `Evidence:    ${evidenceLine(status.evidence.auditIDs)}`,
    "Timeline:",
    ...status.timeline.map((t) => `  ${t.time}  ${t.actor}  ${t.action}  ${t.message}`),
    "Notifications:",
    ...(status.notifications.length === 0 ? ["  none"] : status.notifications.map(deliveryLine)),
  ];
  return `${lines.join("\n")}\n`;
}

async function runDescribe(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [name = ""] = expectPositionals(args, ["NAME"], "incident describe");
  const format = outputOf(args.values, ["json", "yaml"], "incident describe");
  const answer = await clientOf(ctx, args.values).getJson(`${INCIDENTS_PATH}/${encodeURIComponent(name)}`);
  ctx.io.out(format === "table" ? describeIncident(incidentOf(answer)) : printed(answer, format));
  return 0;
}

function note(values: FlagValues): { message?: string } {
  const message = stringFlag(values, "message");
  return message === undefined ? {} : { message };
}

function transition(action: "acknowledge" | "resolve", verb: string): (ctx: CliContext, args: ParsedArgs) => Promise<number> {
  return async (ctx, args) => {
    const [name = ""] = expectPositionals(args, ["NAME"], `incident ${verb}`);
    const answer = incidentOf(await clientOf(ctx, args.values).postJson(`${INCIDENTS_PATH}/${encodeURIComponent(name)}/${action}`, note(args.values)));
    ctx.io.out(`incident/${name} ${answer.status?.state ?? ""}\n`);
    return 0;
  };
}

function many(values: FlagValues, name: string): string[] {
  const raw = values[name];
  return Array.isArray(raw) ? raw.filter((v): v is string => typeof v === "string") : [];
}

/** The body of a containment request for these flags. */
export function containmentRequest(values: FlagValues): Record<string, unknown> {
  const body = {
    disableUsers: many(values, "disable-user"),
    revokeSessions: many(values, "revoke-sessions"),
    revokeTokens: many(values, "revoke-token"),
    freezeNamespaces: many(values, "freeze-namespace"),
    unfreezeNamespaces: many(values, "unfreeze-namespace"),
    rotateCredentials: many(values, "rotate-credentials"),
    ...note(values),
  };
  const lists = [body.disableUsers, body.revokeSessions, body.revokeTokens, body.freezeNamespaces, body.unfreezeNamespaces, body.rotateCredentials];
  if (lists.every((list) => list.length === 0)) throw new CliError("say what to contain: --disable-user, --revoke-sessions, --revoke-token, --freeze-namespace, --unfreeze-namespace or --rotate-credentials");
  return body;
}

async function runContain(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [name = ""] = expectPositionals(args, ["NAME"], "incident contain");
  const answer = (await clientOf(ctx, args.values).postJson(`${INCIDENTS_PATH}/${encodeURIComponent(name)}/contain`, containmentRequest(args.values))) as {
    state?: string;
    steps?: { action: string; target: string; outcome: string; message: string }[];
  };
  for (const step of answer.steps ?? []) ctx.io.out(`${step.outcome === "Done" ? "done" : "FAILED"}: ${step.message}\n`);
  ctx.io.out(`incident/${name} ${answer.state ?? ""}\n`);
  return (answer.steps ?? []).every((step) => step.outcome === "Done") ? 0 : 1;
}

const INCIDENT_GROUP: CommandGroup = {
  name: "incident",
  help: INCIDENT_HELP,
  subcommands: {
    list: { help: LIST_HELP, flags: { ...OUTPUT_FLAG }, run: runList },
    describe: { help: DESCRIBE_HELP, flags: { ...OUTPUT_FLAG }, run: runDescribe },
    ack: { help: ACK_HELP, flags: MESSAGE_FLAG, run: transition("acknowledge", "ack") },
    resolve: { help: RESOLVE_HELP, flags: MESSAGE_FLAG, run: transition("resolve", "resolve") },
    contain: {
      help: CONTAIN_HELP,
      flags: { ...MESSAGE_FLAG, "disable-user": MANY, "revoke-sessions": MANY, "revoke-token": MANY, "freeze-namespace": MANY, "unfreeze-namespace": MANY, "rotate-credentials": MANY },
      run: runContain,
    },
  },
};

/** Run `holdfast incident SUBCOMMAND`. */
export function runIncident(ctx: CliContext, argv: readonly string[]): Promise<number> {
  return runGroup(ctx, argv, INCIDENT_GROUP);
}
