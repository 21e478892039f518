/** The audit log, read through the audit API: the newest records, or those of one object. */
import { get } from "../api.ts";
import type { Cleanup, PageContext } from "../context.ts";
import { h, replace, row, table } from "../dom.ts";
import { auditOf, type AuditRecord } from "../model.ts";

const HEADERS = ["Time", "User", "Verb", "Resource", "Object", "Code", "Stage"] as const;

/** `#/audit` (newest records) or `#/audit/NAMESPACE/RESOURCE/NAME` (one object's). */
export function auditPage(context: PageContext, target: readonly string[]): Cleanup {
  const [namespace, resource, name] = target;
  const one = namespace !== undefined && resource !== undefined && name !== undefined;
  const title = one ? `Audit of ${resource} ${namespace}/${name}` : "Audit log";
  const body = h("div", { id: "audit-body" }, h("p", {}, "Loading…"));
  replace(context.main, h("h1", {}, title), body);
  const query = new URLSearchParams({ limit: one ? "5000" : "200", ...(one ? { resource } : {}) });
  get<{ items: AuditRecord[] }>(`/apis/audit.holdfast.io/v1alpha1/auditevents?${query.toString()}`).then(
    (list) => {
      const records = one ? auditOf(list.items, { namespace, resource, name }) : list.items.toReversed();
      replace(body, records.length === 0 ? h("p", {}, "No records.") : auditTable(records));
    },
    (error: unknown) => replace(body, h("p", { role: "alert" }, error instanceof Error ? error.message : "cannot read the audit log")),
  );
  return () => undefined;
}

function auditTable(records: readonly AuditRecord[]): HTMLTableElement {
  return table("audit", HEADERS, records.map(auditRow));
}

function auditRow(record: AuditRecord): HTMLTableRowElement {
  const verb = record.verb ?? "";
  const stage = record.stage ?? "";
  const time = record.stageTimestamp ?? record.requestReceivedTimestamp ?? "";
  const code = record.responseStatus?.code;
  return row([time, record.user?.username ?? "", verb, record.objectRef?.resource ?? "", objectOf(record.objectRef), code === undefined ? "" : String(code), stage], {
    "data-verb": verb,
    "data-stage": stage,
  });
}

function objectOf(ref: AuditRecord["objectRef"]): string {
  if (ref === undefined) return "";
  const sub = ref.subresource === undefined ? "" : `/${ref.subresource}`;
  return `${ref.namespace ?? ""}/${ref.name ?? ""}${sub}`;
}
