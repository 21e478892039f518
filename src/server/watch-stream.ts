/** Watch over HTTP: newline-delimited JSON events on a chunked response, until the client goes away. */
import type { ServerResponse } from "node:http";
import type { Resource } from "../api/index.ts";
import type { ListOptions, Store, Watch, WatchEvent } from "../store/index.ts";
import { matchesFieldSelector, type FieldSelector } from "./field-selector.ts";
import { COMMON_HEADERS } from "./respond.ts";
import { statusBody } from "./error-status.ts";
import { asHoldfastError } from "../errors/index.ts";

/** A watch the server can end when it shuts down. */
export interface OpenWatch {
  end(): void;
}

/** What to watch. */
export interface WatchRequest {
  kind: string;
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  /** Only objects matching it are sent. */
  fieldSelector?: FieldSelector | undefined;
  /** End the stream after this many seconds (the client watches again from where it was). */
  timeoutSeconds?: number | undefined;
  /** Resume after this resourceVersion; absent or "0" first sends the current objects as ADDED. */
  resourceVersion?: string | undefined;
  /** What each event carries instead of the object itself (a one-row Table for `kubectl get -w`). */
  present?: ((object: Resource) => unknown) | undefined;
}

/**
 * Start streaming. Throws (GoneError from the store) before anything is written, so the caller can
 * still answer with a Status. Events arriving while the initial state is written are queued, not lost.
 */
export async function startWatch(store: Store, watch: WatchRequest, response: ServerResponse): Promise<OpenWatch> {
  const fromNow = watch.resourceVersion === undefined || watch.resourceVersion === "0";
  const filter = listOptions(watch);
  const initial = fromNow ? await store.list(watch.kind, filter) : undefined;
  const queue: WatchEvent[] = [];
  let ready = false;
  const selected = watch.fieldSelector ?? [];
  const write = (event: WatchEvent): void => {
    if (!matchesFieldSelector(selected, event.object)) return;
    const shown = watch.present === undefined ? event : { type: event.type, object: watch.present(event.object) };
    if (ready) response.write(`${JSON.stringify(shown)}\n`);
    else queue.push(event);
  };
  const resumeFrom = initial?.resourceVersion ?? watch.resourceVersion;
  // A watch the store ends by itself (410 Gone after a compaction) ends the stream with an ERROR event, as Kubernetes'.
  const failed = (error: Error): void => {
    if (!response.writableEnded) response.write(`${JSON.stringify({ type: "ERROR", object: statusBody(asHoldfastError(error)) })}\n`);
    end();
  };
  const handle: Watch = store.watch({ ...filter, kind: watch.kind, ...(resumeFrom === undefined ? {} : { resourceVersion: resumeFrom }) }, write, failed);
  response.writeHead(200, { ...COMMON_HEADERS, "Transfer-Encoding": "chunked" });
  response.flushHeaders();
  ready = true;
  for (const object of initial?.items ?? []) write({ type: "ADDED", object });
  for (const event of queue.splice(0)) write(event);
  let ended = false;
  const timer = watch.timeoutSeconds === undefined ? undefined : setTimeout(() => end(), watch.timeoutSeconds * 1000);
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    handle.stop();
    if (!response.writableEnded) response.end();
  };
  // The response closes when the client disconnects (a request's own "close" fires as soon as its body is read).
  response.on("close", end);
  return { end };
}

function listOptions(watch: WatchRequest): ListOptions {
  const options: ListOptions = {};
  if (watch.namespace !== undefined) options.namespace = watch.namespace;
  if (watch.labelSelector !== undefined) options.labelSelector = watch.labelSelector;
  return options;
}
