/** Every cluster the user may list, kept current by the API's watch (no reload). */
import { listAndWatch } from "../api.ts";
import type { Cleanup, PageContext } from "../context.ts";
import { h, replace, row, table } from "../dom.ts";
import { age, applyWatchEvent, clusterRow, keyOf, sortedRows, type ClusterObject } from "../model.ts";

const HEADERS = ["Namespace", "Name", "Engine", "Topology", "Components", "Status", "Age"] as const;

/** The clusters list. */
export function clustersPage(context: PageContext): Cleanup {
  const clusters = new Map<string, ClusterObject>();
  const body = h("div", { id: "clusters-body" }, h("p", {}, "Loading…"));
  replace(context.main, h("h1", {}, "Clusters"), body);
  let pending = false;
  const draw = (): void => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      replace(body, clusters.size === 0 ? h("p", {}, "No clusters yet.") : clustersTable(clusters.values()));
    });
  };
  return listAndWatch<ClusterObject>(
    "/apis/apps.kubeblocks.io/v1/clusters",
    (items) => {
      clusters.clear();
      for (const item of items) clusters.set(keyOf(item), item);
      draw();
    },
    (event) => {
      if (applyWatchEvent(clusters, event)) draw();
    },
  );
}

function clustersTable(clusters: Iterable<ClusterObject>): HTMLTableElement {
  const now = Date.now();
  const rows = sortedRows([...clusters].map(clusterRow)).map((r) =>
    row(
      [
        r.namespace,
        h("a", { href: `#/clusters/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}` }, r.name),
        r.engine,
        r.topology,
        r.replicas,
        h("span", { class: `phase phase-${r.phase}` }, r.phase),
        age(r.created, now),
      ],
      { "data-key": r.key },
    ),
  );
  return table("clusters", HEADERS, rows);
}
