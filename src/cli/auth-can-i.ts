/** `holdfast auth`: `can-i` (access reviews, as kubectl asks them) and `whoami`. */
import { z } from "zod";
import { subjectAccessReviewStatusSchema } from "../api/index.ts";
import { NAMESPACE_FLAGS, UsageError, boolFlag, stringFlag } from "./args.ts";
import type { FlagValues, ParsedArgs } from "./args.ts";
import { reviewedAccess, type CanIQuestion, type ReviewedAccess } from "./access-attributes.ts";
import { clientOf } from "./context.ts";
import type { CliContext } from "./context.ts";
import { formatTable, toJson } from "./output.ts";
import { AUTHENTICATION_API, AUTHORIZATION_API, parseAnswer, whoamiSchema } from "./security-api.ts";
import { OUTPUT_FLAG, outputOf, runGroup, type CommandGroup } from "./subcommands.ts";

export const AUTH_HELP = `Inspect authorization.

Usage:
  holdfast auth can-i VERB RESOURCE [NAME] [-n NAMESPACE | -A] [--as USER] [--as-group GROUP]
  holdfast auth whoami [-o json]

Examples:
  holdfast auth can-i create clusters -n demo
  holdfast auth can-i delete users --as alice
  holdfast auth whoami

Run "holdfast auth SUBCOMMAND --help" for the flags of each.
`;

const CAN_I_HELP = `Check whether an action is allowed, as kubectl auth can-i does.

Prints "yes" (exit code 0) or "no" (exit code 1) on standard output; on "no" the
server's reason follows on standard error (with -v also on "yes", naming the binding
that allows it).

Usage:
  holdfast auth can-i VERB RESOURCE[/SUBRESOURCE][.GROUP] [NAME] [-n NAMESPACE | -A]
    [--as USER] [--as-group GROUP]... [-q] [-v]
  holdfast auth can-i VERB /NON-RESOURCE-URL [--as USER] [--as-group GROUP]... [-q] [-v]

VERB is get, list, watch, create, update, patch, delete, deletecollection, bind,
escalate, impersonate, rotate or rewrap (keyring), or *. RESOURCE is a kind by any
name "holdfast get" accepts (clusters, cl, ops, inst, secrets, ...), a security
resource (users, apitokens, auditevents, keyring), or * for every resource. User
actions are subresources: users/mfa (reset-mfa), users/password (set-password).
A RESOURCE starting with "/" is a non-resource URL (/metrics, /monitoring/targets),
matched against the nonResourceURLs of ClusterRoles, as in Kubernetes.

Examples:
  holdfast auth can-i create clusters -n demo
  holdfast auth can-i update clusters/status -n demo
  holdfast auth can-i get secrets pg-postgresql-account-postgres -n demo
  holdfast auth can-i list auditevents
  holdfast auth can-i rotate keyring
  holdfast auth can-i get /metrics                       # may I scrape the control plane?
  holdfast auth can-i '*' '*' -A                       # am I a cluster administrator?
  holdfast auth can-i delete clusters -n prod --as alice   # ask about another user

Options:
  -n, --namespace NS      Namespace to ask about (default: default; ignored for cluster-scoped resources)
  -A, --all-namespaces    Ask about every namespace
      --as USER           Ask about USER instead of yourself (a SubjectAccessReview; needs create subjectaccessreviews)
      --as-group GROUP    Ask with these groups (repeatable) instead of the user's own
  -q, --quiet             Print nothing; only the exit code answers
  -v, --verbose           Also print the reason when the answer is yes
`;

const WHOAMI_HELP = `Show who the server takes you for: your user name, your groups, and whether a session or an API token.

Usage:
  holdfast auth whoami [-o json]

Example:
  holdfast auth whoami
`;

const CAN_I_FLAGS = {
  ...NAMESPACE_FLAGS,
  as: { type: "string" },
  "as-group": { type: "string", multiple: true },
  quiet: { type: "boolean", short: "q" },
  verbose: { type: "boolean", short: "v" },
} as const;

const reviewAnswerSchema = z.looseObject({ status: subjectAccessReviewStatusSchema });

function asGroups(values: FlagValues): string[] {
  const raw = values["as-group"];
  return Array.isArray(raw) ? raw.filter((group): group is string => typeof group === "string") : [];
}

/** The review to send: a SelfSubjectAccessReview, or a SubjectAccessReview with `--as` / `--as-group`; and its path. */
export function accessReview(access: ReviewedAccess, user: string | undefined, groups: readonly string[]): { path: string; body: Record<string, unknown> } {
  const apiVersion = "authorization.k8s.io/v1";
  if (user === undefined && groups.length === 0) {
    return { path: `${AUTHORIZATION_API}/selfsubjectaccessreviews`, body: { apiVersion, kind: "SelfSubjectAccessReview", spec: { ...access } } };
  }
  const subject = { ...(user === undefined ? {} : { user }), ...(groups.length === 0 ? {} : { groups: [...groups] }) };
  return { path: `${AUTHORIZATION_API}/subjectaccessreviews`, body: { apiVersion, kind: "SubjectAccessReview", spec: { ...subject, ...access } } };
}

function question(args: ParsedArgs): CanIQuestion {
  const [verb, resource, name, extra] = args.positionals;
  if (verb === undefined || resource === undefined) throw new UsageError("missing VERB and RESOURCE, e.g. holdfast auth can-i create clusters", "auth can-i");
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`, "auth can-i");
  const namespace = stringFlag(args.values, "namespace");
  const allNamespaces = boolFlag(args.values, "all-namespaces");
  if (namespace !== undefined && allNamespaces) throw new UsageError("use -n or -A, not both", "auth can-i");
  return { verb, resource, ...(name === undefined ? {} : { name }), ...(namespace === undefined ? {} : { namespace }), allNamespaces };
}

/** `yes` or `no` on standard output; the reason (on no, or with -v) and any evaluation error on standard error. */
function printAnswer(ctx: CliContext, status: z.infer<typeof subjectAccessReviewStatusSchema>, verbose: boolean): void {
  ctx.io.out(status.allowed ? "yes\n" : "no\n");
  const reason = status.reason ?? "";
  if ((!status.allowed || verbose) && reason !== "") ctx.io.err(`reason: ${reason}\n`);
  const evaluationError = status.evaluationError ?? "";
  if (evaluationError !== "") ctx.io.err(`evaluation error: ${evaluationError}\n`);
}

async function runCanI(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const { access, warnings } = reviewedAccess(question(args));
  const quiet = boolFlag(args.values, "quiet");
  if (!quiet) for (const warning of warnings) ctx.io.err(`${warning}\n`);
  const { path, body } = accessReview(access, stringFlag(args.values, "as"), asGroups(args.values));
  const { status } = parseAnswer(reviewAnswerSchema, await clientOf(ctx, args.values).postJson(path, body), "auth can-i");
  if (!quiet) printAnswer(ctx, status, boolFlag(args.values, "verbose"));
  return status.allowed ? 0 : 1;
}

async function runWhoami(ctx: CliContext, args: ParsedArgs): Promise<number> {
  if (args.positionals.length > 0) throw new UsageError("auth whoami takes no arguments", "auth whoami");
  const format = outputOf(args.values, ["json"], "auth whoami");
  const answer = await clientOf(ctx, args.values).getJson(`${AUTHENTICATION_API}/whoami`);
  if (format === "json") {
    ctx.io.out(toJson(answer));
    return 0;
  }
  const me = parseAnswer(whoamiSchema, answer, "auth whoami");
  const rows = [["Username", me.username], ["Groups", `[${me.groups.join(" ")}]`], ...(me.via === undefined ? [] : [["Via", me.via]])];
  ctx.io.out(formatTable(["ATTRIBUTE", "VALUE"], rows));
  return 0;
}

const AUTH_GROUP: CommandGroup = {
  name: "auth",
  help: AUTH_HELP,
  subcommands: {
    "can-i": { help: CAN_I_HELP, flags: CAN_I_FLAGS, run: runCanI },
    whoami: { help: WHOAMI_HELP, flags: OUTPUT_FLAG, run: runWhoami },
  },
};

/** Run `holdfast auth SUBCOMMAND`. */
export function runAuth(ctx: CliContext, argv: readonly string[]): Promise<number> {
  return runGroup(ctx, argv, AUTH_GROUP);
}
