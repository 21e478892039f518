/**
 * One cluster: its status and conditions, instances with roles, events, and OpsRequests with live progress; the
 * day-2 actions (as OpsRequests) for users who may create them, the connection secrets for users who may read them.
 */
import { ApiError, get, post } from "../api.ts";
import { watchInto } from "../live.ts";
import type { Cleanup, PageContext } from "../context.ts";
import { h, on, replace, row, table } from "../dom.ts";
import {
  age,
  instanceRows,
  opsManifest,
  opsProgress,
  type Abilities,
  type ClusterObject,
  type EventObject,
  type InstanceObject,
  type OpsObject,
  type OpsType,
} from "../model.ts";

const ACTIONS: readonly OpsType[] = ["Restart", "Stop", "Start", "Switchover"];

interface Sections {
  summary: HTMLElement;
  conditions: HTMLElement;
  instances: HTMLElement;
  ops: HTMLElement;
  events: HTMLElement;
  actions: HTMLElement;
  secrets: HTMLElement;
}

/** The cluster page. */
export function clusterPage(context: PageContext, namespace: string, name: string): Cleanup {
  const sections: Sections = {
    summary: h("dl", { id: "summary" }),
    conditions: h("div", { id: "conditions" }),
    instances: h("div", { id: "instances" }),
    ops: h("div", { id: "opsrequests" }),
    events: h("div", { id: "events" }),
    actions: h("div", { id: "actions", role: "group", "aria-label": "Actions" }),
    secrets: h("div", { id: "secrets" }),
  };
  const auditLink = h("a", { href: `#/audit/${encodeURIComponent(namespace)}/clusters/${encodeURIComponent(name)}`, id: "cluster-audit" }, "Audit records");
  replace(
    context.main,
    h("h1", {}, `Cluster ${namespace}/${name}`),
    sections.actions,
    sections.summary,
    auditLink,
    h("h2", {}, "Conditions"),
    sections.conditions,
    h("h2", {}, "Instances"),
    sections.instances,
    h("h2", {}, "Operations"),
    sections.ops,
    h("h2", {}, "Events"),
    sections.events,
    sections.secrets,
  );
  const state = { cluster: undefined as ClusterObject | undefined, instances: new Map<string, InstanceObject>() };
  const base = (group: string, resource: string): string => `${group === "" ? "/api/v1" : `/apis/${group}`}/namespaces/${encodeURIComponent(namespace)}/${resource}`;
  const stops = [
    watchInto<ClusterObject>(base("apps.kubeblocks.io/v1", "clusters"), (all) => {
      state.cluster = all.get(`${namespace}/${name}`);
      drawSummary(sections, state.cluster);
    }),
    watchInto<InstanceObject>(base("holdfast.io/v1alpha1", "instances"), (all) => {
      state.instances = all;
      drawInstances(sections.instances, all, name);
    }),
    watchInto<OpsObject>(base("operations.kubeblocks.io/v1alpha1", "opsrequests"), (all) => drawOps(sections.ops, all, name, namespace)),
    watchInto<EventObject>(base("", "events"), (all) => drawEvents(sections.events, all, name)),
  ];
  void context.abilities(namespace).then((abilities) => {
    drawActions(sections.actions, abilities, () => state);
    if (abilities.readSecrets) drawSecretsButton(sections.secrets, base("", "secrets"), name);
  });
  return () => {
    for (const stop of stops) stop();
  };
}

function drawSummary(sections: Sections, cluster: ClusterObject | undefined): void {
  if (cluster === undefined) {
    replace(sections.summary, h("dt", {}, "Status"), h("dd", { id: "cluster-phase" }, "not found (deleted, or not created yet)"));
    replace(sections.conditions);
    return;
  }
  const status = cluster.status ?? {};
  const phase = status.phase ?? "Pending";
  const endpoints = (status.endpoints ?? []).map((e) => `${e.access} ${e.host ?? ""}:${e.port ?? ""}`).join(", ");
  replace(
    sections.summary,
    h("dt", {}, "Status"),
    h("dd", { id: "cluster-phase", class: `phase phase-${phase}` }, phase),
    h("dt", {}, "Engine"),
    h("dd", {}, `${cluster.spec?.clusterDef ?? ""} (${cluster.spec?.topology ?? ""})`),
    h("dt", {}, "Endpoints"),
    h("dd", {}, endpoints === "" ? "none yet" : endpoints),
  );
  const conditions = status.conditions ?? [];
  replace(sections.conditions, table("conditions-table", ["Type", "Status", "Reason", "Message"], conditions.map((c) => row([c.type, c.status, c.reason ?? "", c.message ?? ""]))));
}

function drawInstances(target: HTMLElement, instances: Map<string, InstanceObject>, cluster: string): void {
  const rows = instanceRows(instances.values(), cluster).map((r) => row([r.name, r.component, r.role, r.phase, r.ready, r.node, r.address], { "data-instance": r.name }));
  replace(target, table("instances-table", ["Name", "Component", "Role", "Status", "Ready", "Node", "Address"], rows));
}

function drawOps(target: HTMLElement, all: Map<string, OpsObject>, cluster: string, namespace: string): void {
  const ops = [...all.values()].filter((o) => o.spec?.clusterName === cluster).sort((a, b) => (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? ""));
  const rows = ops.map((o) => {
    const p = opsProgress(o);
    const bar = h("progress", { max: "1", value: String(p.fraction), "aria-label": `${o.metadata.name} progress` });
    const audit = h("a", { href: `#/audit/${encodeURIComponent(namespace)}/opsrequests/${encodeURIComponent(o.metadata.name)}` }, "audit");
    return row([o.metadata.name, o.spec?.type ?? "", h("span", { class: `phase phase-${p.phase}` }, p.phase), h("span", {}, bar, ` ${p.progress}`), o.status?.message ?? "", audit], {
      "data-ops": o.metadata.name,
      "data-phase": p.phase,
    });
  });
  replace(target, rows.length === 0 ? h("p", {}, "No operations.") : table("ops-table", ["Name", "Type", "Phase", "Progress", "Message", ""], rows));
}

function drawEvents(target: HTMLElement, all: Map<string, EventObject>, cluster: string): void {
  const now = Date.now();
  const mine = [...all.values()].filter((e) => (e.involvedObject?.name ?? "").startsWith(cluster)).sort((a, b) => (b.lastTimestamp ?? "").localeCompare(a.lastTimestamp ?? ""));
  const rows = mine.slice(0, 50).map((e) => row([age(e.lastTimestamp, now), e.type ?? "", e.reason ?? "", `${e.involvedObject?.kind ?? ""}/${e.involvedObject?.name ?? ""}`, e.message ?? ""]));
  replace(target, rows.length === 0 ? h("p", {}, "No events.") : table("events-table", ["Age", "Type", "Reason", "Object", "Message"], rows));
}

function drawActions(target: HTMLElement, abilities: Abilities, state: () => { cluster: ClusterObject | undefined; instances: Map<string, InstanceObject> }): void {
  if (!abilities.createOps) return;
  const message = h("span", { id: "action-message", role: "status" });
  const buttons = ACTIONS.map((type) =>
    on(h("button", { type: "button", "data-action": type }, type), "click", () => {
      const { cluster, instances } = state();
      if (cluster === undefined) return;
      const primary = [...instances.values()].find((i) => i.spec?.clusterName === cluster.metadata.name && (i.status?.role === "primary" || i.status?.role === "master"));
      const ops = opsManifest(cluster, type, Date.now().toString(36), primary?.metadata.name ?? "");
      post(`/apis/operations.kubeblocks.io/v1alpha1/namespaces/${encodeURIComponent(ops.metadata.namespace ?? "")}/opsrequests`, ops).then(
        () => replace(message, `${type} requested: ${ops.metadata.name}`),
        (error: unknown) => replace(message, error instanceof ApiError ? error.message : "the server cannot be reached"),
      );
    }),
  );
  replace(target, ...buttons, message);
}

function drawSecretsButton(target: HTMLElement, path: string, cluster: string): void {
  const list = h("div", { id: "secret-values" });
  const reveal = on(h("button", { type: "button", id: "reveal-secrets" }, "Show connection passwords"), "click", () => {
    void get<{ items: { metadata: { name: string }; data?: Record<string, string> }[] }>(path).then((secrets) => {
      const mine = secrets.items.filter((s) => s.metadata.name.startsWith(`${cluster}-`));
      replace(list, table("secrets-table", ["Secret", "User", "Password"], mine.map((s) => row([s.metadata.name, decode(s.data?.["username"]), decode(s.data?.["password"])]))));
    });
  });
  replace(target, h("h2", {}, "Connection secrets"), reveal, list);
}

function decode(value: string | undefined): string {
  return value === undefined ? "" : atob(value);
}
