/** The columns `holdfast get` shows for each kind, like kubectl's printers. */
import { printerColumns, type KindInfo, type PrinterContext, type Resource } from "../api/index.ts";
import { text } from "./fields.ts";

/** Headers and how to fill one row. */
export interface TableSpec {
  headers: string[];
  row(object: Resource, now: Date): string[];
}

/** What some tables show besides their objects (Node: the controllers' leader). */
export type TableContext = PrinterContext;

/** The table for a kind; `wide` adds columns, `allNamespaces` leads with NAMESPACE. */
export function tableFor(info: KindInfo, wide: boolean, allNamespaces: boolean, context: TableContext = {}): TableSpec {
  let columns = printerColumns(info.kind, context).filter((column) => wide || column.priority === 0);
  if (allNamespaces && info.namespaced) columns = [{ name: "NAMESPACE", priority: 0, cell: (o) => o.metadata.namespace ?? "" }, ...columns];
  return {
    headers: columns.map((column) => column.name),
    row: (object, now) => columns.map((column) => column.cell(object, now)),
  };
}

/** Events sort by when they last happened, as `kubectl get events` does; everything else by namespace and name. */
export function sortForTable(info: KindInfo, objects: readonly Resource[]): Resource[] {
  const copy = [...objects];
  if (info.kind === "Event") {
    return copy.sort((a, b) => text(a, "lastTimestamp").localeCompare(text(b, "lastTimestamp")));
  }
  return copy.sort((a, b) =>
    `${a.metadata.namespace ?? ""}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ""}/${b.metadata.name}`),
  );
}
