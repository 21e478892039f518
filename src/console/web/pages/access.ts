/** The user's own view of what they may do, from SelfSubjectAccessReviews (the same answers the server enforces). */
import type { Cleanup, PageContext } from "../context.ts";
import { mayI } from "../context.ts";
import { h, replace, row, table } from "../dom.ts";
import type { Ask } from "../model.ts";

const ASKS: readonly Ask[] = [
  { verb: "list", group: "apps.kubeblocks.io", resource: "clusters" },
  { verb: "create", group: "apps.kubeblocks.io", resource: "clusters" },
  { verb: "delete", group: "apps.kubeblocks.io", resource: "clusters" },
  { verb: "create", group: "operations.kubeblocks.io", resource: "opsrequests" },
  { verb: "list", group: "holdfast.io", resource: "instances" },
  { verb: "get", group: "", resource: "secrets" },
  { verb: "create", group: "dataprotection.kubeblocks.io", resource: "backups" },
  { verb: "list", group: "audit.holdfast.io", resource: "auditevents" },
  { verb: "list", group: "authentication.holdfast.io", resource: "users" },
  { verb: "create", group: "rbac.authorization.k8s.io", resource: "rolebindings" },
];

/** The "My access" page: per namespace (empty: every namespace). */
export function accessPage(context: PageContext): Cleanup {
  const namespace = h("input", { id: "access-namespace", name: "namespace", placeholder: "every namespace" });
  const result = h("div", { id: "access-body" });
  const form = h("form", { id: "access-form" }, h("label", { for: "access-namespace" }, "Namespace"), namespace, h("button", { type: "submit" }, "Check"));
  const check = (): void => {
    void answers(namespace.value.trim()).then((t) => replace(result, t));
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    check();
  });
  replace(context.main, h("h1", {}, "My access"), h("p", {}, `Signed in as ${context.session.username} (groups: ${context.session.groups.join(", ")}).`), form, result);
  check();
  return () => undefined;
}

async function answers(namespace: string): Promise<HTMLTableElement> {
  const scoped = (ask: Ask): Ask => (namespace === "" ? ask : { ...ask, namespace });
  const allowed = await Promise.all(ASKS.map((ask) => mayI(scoped(ask))));
  const rows = ASKS.map((ask, i) => row([ask.verb, ask.group === "" ? ask.resource : `${ask.resource}.${ask.group}`, allowed[i] === true ? "yes" : "no"]));
  return table("access", ["Verb", "Resource", "Allowed"], rows);
}
