/** Events about one object, for `describe` and for `wait` timeouts. */
import { findKind } from "../api/index.ts";
import type { Resource } from "../api/index.ts";
import type { ApiClient } from "./client.ts";
import { text } from "./fields.ts";
import { formatAge } from "./output.ts";

/** Is this event about that object? By uid when both carry one, else by kind and name. */
export function isAbout(event: Resource, object: Resource): boolean {
  const uid = text(event, "involvedObject.uid");
  if (uid !== "" && object.metadata.uid !== undefined) return uid === object.metadata.uid;
  return text(event, "involvedObject.kind") === object.kind && text(event, "involvedObject.name") === object.metadata.name;
}

/** The field selector of the events about an object (the server selects them; `isAbout` then checks the uid). */
export function eventSelectorFor(object: Resource): string {
  const escape = (value: string): string => value.replace(/[\\,=]/g, (char) => `\\${char}`);
  return `involvedObject.kind=${escape(object.kind)},involvedObject.name=${escape(object.metadata.name)}`;
}

/** Events about an object, oldest first. */
export async function eventsFor(client: ApiClient, object: Resource): Promise<Resource[]> {
  const info = findKind("Event");
  if (!info) return [];
  const list = await client.list(info, object.metadata.namespace, { fieldSelector: eventSelectorFor(object) });
  return list.items
    .filter((event) => isAbout(event, object))
    .sort((a, b) => text(a, "lastTimestamp").localeCompare(text(b, "lastTimestamp")));
}

/** The message of the most recent Warning event, if any. */
export function latestWarning(events: readonly Resource[]): string | undefined {
  const warnings = events.filter((event) => text(event, "type") === "Warning");
  const last = warnings[warnings.length - 1];
  return last === undefined ? undefined : `${text(last, "reason")}: ${text(last, "message")}`;
}

/** kubectl's describe AGE cell: `3m`, or `3m (x5 over 10m)` for a repeated event. */
export function eventAge(event: Resource, now: Date): string {
  const last = formatAge(text(event, "lastTimestamp") || event.metadata.creationTimestamp, now);
  const count = Number(text(event, "count", "1"));
  if (!(count > 1)) return last;
  return `${last} (x${count} over ${formatAge(text(event, "firstTimestamp"), now)})`;
}
