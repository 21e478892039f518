/** What `holdfast auth can-i VERB RESOURCE [NAME]` asks about: the RESOURCE argument resolved to RBAC attributes. */
import { findKind, type NonResourceAttributes, type ResourceAttributes } from "../api/index.ts";
import { UsageError } from "./args.ts";

const COMMAND = "auth can-i";

/** A resource as RBAC names it, and whether it lives in namespaces (undefined: not known here). */
export interface AccessResource {
  resource: string;
  group: string;
  subresource?: string;
  namespaced: boolean | undefined;
  /** False when the name was passed through as typed because neither a kind nor a known security resource has it. */
  known: boolean;
}

/** Resources of the security API, which are not kinds `holdfast get` knows; all cluster-scoped. */
const SECURITY_RESOURCES: readonly { resource: string; group: string; names: readonly string[] }[] = [
  { resource: "users", group: "authentication.holdfast.io", names: ["user", "users"] },
  { resource: "apitokens", group: "authentication.holdfast.io", names: ["apitoken", "apitokens", "token", "tokens"] },
  { resource: "auditevents", group: "audit.holdfast.io", names: ["auditevent", "auditevents"] },
  { resource: "keyring", group: "security.holdfast.io", names: ["keyring"] },
  { resource: "selfsubjectaccessreviews", group: "authorization.k8s.io", names: ["selfsubjectaccessreview", "selfsubjectaccessreviews"] },
  { resource: "subjectaccessreviews", group: "authorization.k8s.io", names: ["subjectaccessreview", "subjectaccessreviews"] },
];

/** Verbs RBAC knows (Kubernetes' and the keyring's rotate and rewrap); others are passed on with a warning, as kubectl does. */
const KNOWN_VERBS = new Set(["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "use", "bind", "escalate", "impersonate", "rotate", "rewrap", "*"]);

interface ResourceWords {
  name: string;
  group: string | undefined;
  subresource: string | undefined;
}

/** Split `clusters`, `cl.apps.kubeblocks.io`, `clusters/status`, `clusters.apps.kubeblocks.io/status` or `clusters/status.apps.kubeblocks.io`. */
export function splitResourceArgument(argument: string): ResourceWords {
  const slash = argument.indexOf("/");
  let head = slash === -1 ? argument : argument.slice(0, slash);
  let tail = slash === -1 ? undefined : argument.slice(slash + 1);
  let group: string | undefined;
  const headDot = head.indexOf(".");
  if (headDot !== -1) {
    group = head.slice(headDot + 1);
    head = head.slice(0, headDot);
  } else if (tail?.includes(".") === true) {
    const tailDot = tail.indexOf(".");
    group = tail.slice(tailDot + 1);
    tail = tail.slice(0, tailDot);
  }
  if (head === "" || tail === "" || group === "" || tail?.includes("/") === true) {
    throw new UsageError(`invalid resource "${argument}": use RESOURCE, RESOURCE/SUBRESOURCE or RESOURCE.GROUP, e.g. clusters, clusters/status, users.authentication.holdfast.io`, COMMAND);
  }
  return { name: head, group, subresource: tail };
}

/** The RBAC resource and group of a RESOURCE argument: kinds by any of their names, security resources, `*`, or as typed. */
export function resolveAccessResource(argument: string): AccessResource {
  const words = splitResourceArgument(argument);
  const sub = words.subresource === undefined ? {} : { subresource: words.subresource };
  if (words.name === "*") return { resource: "*", group: words.group ?? "*", ...sub, namespaced: undefined, known: true };
  const kind = findKind(words.group === undefined ? words.name : `${words.name}.${words.group}`);
  if (kind !== undefined) return { resource: kind.plural, group: kind.group, ...sub, namespaced: kind.namespaced, known: true };
  const lower = words.name.toLowerCase();
  const security = SECURITY_RESOURCES.find((entry) => entry.names.includes(lower) && (words.group === undefined || words.group === entry.group));
  if (security !== undefined) return { resource: security.resource, group: security.group, ...sub, namespaced: false, known: true };
  return { resource: words.name, group: words.group ?? "", ...sub, namespaced: undefined, known: false };
}

/** What the command line asks: verb, resource argument, optional name, and the namespace flags. */
export interface CanIQuestion {
  verb: string;
  resource: string;
  name?: string;
  /** `-n`, when given. */
  namespace?: string;
  /** `-A`: in every namespace. */
  allNamespaces: boolean;
}

/** The review's resource attributes, and warnings for the user (unknown resource or verb, `-n` on a cluster-scoped resource). */
export function accessAttributes(question: CanIQuestion): { attributes: ResourceAttributes; warnings: string[] } {
  const target = resolveAccessResource(question.resource);
  const warnings: string[] = [];
  if (!target.known) warnings.push(`Warning: the server doesn't have a resource type "${target.resource}"; asking about it as typed`);
  if (!KNOWN_VERBS.has(question.verb)) warnings.push(`Warning: verb "${question.verb}" is not a known verb`);
  if (target.namespaced === false && question.namespace !== undefined) warnings.push(`Warning: resource "${target.resource}" is not namespace scoped`);
  const namespace = question.allNamespaces || target.namespaced === false ? undefined : (question.namespace ?? "default");
  const attributes: ResourceAttributes = {
    verb: question.verb,
    group: target.group,
    resource: target.resource,
    ...(target.subresource === undefined ? {} : { subresource: target.subresource }),
    ...(namespace === undefined ? {} : { namespace }),
    ...(question.name === undefined ? {} : { name: question.name }),
  };
  return { attributes, warnings };
}

/** What a review asks about, as the spec of an access review carries it. */
export type ReviewedAccess = { resourceAttributes: ResourceAttributes } | { nonResourceAttributes: NonResourceAttributes };

/** Is the RESOURCE argument a non-resource URL (`/metrics`), as kubectl takes any argument starting with a slash? */
export function isNonResourceURL(resource: string): boolean {
  return resource.startsWith("/");
}

/**
 * What the question asks about: a non-resource URL (`can-i get /metrics`, which has no name and no namespace) or a
 * resource; with warnings for the user.
 */
export function reviewedAccess(question: CanIQuestion): { access: ReviewedAccess; warnings: string[] } {
  if (!isNonResourceURL(question.resource)) {
    const { attributes, warnings } = accessAttributes(question);
    return { access: { resourceAttributes: attributes }, warnings };
  }
  if (question.name !== undefined) throw new UsageError(`a non-resource URL (${question.resource}) takes no NAME`, COMMAND);
  const warnings = question.namespace === undefined ? [] : [`Warning: ${question.resource} is a non-resource URL: the namespace is ignored`];
  if (!KNOWN_VERBS.has(question.verb)) warnings.push(`Warning: verb "${question.verb}" is not a known verb`);
  return { access: { nonResourceAttributes: { verb: question.verb, path: question.resource } }, warnings };
}

/** The plural RBAC and audit records use for a name typed by a user (`cl` → `clusters`, `token` → `apitokens`); else as typed. */
export function resourcePlural(name: string): string {
  const kind = findKind(name);
  if (kind !== undefined) return kind.plural;
  const lower = name.toLowerCase();
  return SECURITY_RESOURCES.find((entry) => entry.names.includes(lower))?.resource ?? name;
}
