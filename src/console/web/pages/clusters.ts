/** Every cluster the user may list, kept current by the API's watch (no reload). */
import { watchInto } from "../live.ts";
import type { Cleanup, PageContext } from "../context.ts";
import { h, replace, row, table } from "../dom.ts";
import { age, clusterRow, sortedRows, type ClusterObject } from "../model.ts";

const HEADERS = ["Namespace", "Name", "Engine", "Topology", "Components", "Status", "Age"] as const;

/** The clusters list. */
export function clustersPage(context: PageContext): Cleanup {
  const body = h("div", { id: "clusters-body" }, h("p", {}, "Loading…"));
  replace(context.main, h("h1", {}, "Clusters"), body);
  return watchInto<ClusterObject>("/apis/apps.kubeblocks.io/v1/clusters", (clusters) => {
    replace(body, clusters.size === 0 ? h("p", {}, "No clusters yet.") : clustersTable(clusters.values()));
  });
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
