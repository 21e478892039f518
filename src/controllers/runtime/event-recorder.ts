/** Records Events (like `kubectl get events`) about objects; a repeated event bumps its count. */
import { createHash } from "node:crypto";
import { now, type Event, type Resource } from "../../api/index.ts";
import { AlreadyExistsError, ConflictError, errorMessage } from "../../errors/index.ts";
import type { Store } from "../../store/index.ts";
import type { Logger } from "../../util/index.ts";

export type EventType = "Normal" | "Warning";

/** What reconcilers use to tell users what happened to an object. */
export interface EventRecorder {
  record(object: Resource, type: EventType, reason: string, message: string): Promise<void>;
}

/**
 * An EventRecorder writing v1 Events to the store. Writes happen in order in the background, off the
 * reconcile's critical path; failures are logged, never thrown: events are best effort.
 */
export function createEventRecorder(store: Store, component: string, logger: Logger): EventRecorder {
  let pending: Promise<void> = Promise.resolve();
  const write = async (input: EventInput): Promise<void> => {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await upsertEvent(store, component, input);
        return;
      } catch (error) {
        if (!(error instanceof ConflictError || error instanceof AlreadyExistsError)) {
          logger.warn({ reason: input.reason, err: errorMessage(error) }, "could not record event");
          return;
        }
      }
    }
  };
  return {
    record(object, type, reason, message) {
      // The server's log says what it does (failover steps, backups, restores…): every Event is a line of it too.
      const about = { kind: object.kind, name: object.metadata.name, ...(object.metadata.namespace === undefined ? {} : { namespace: object.metadata.namespace }) };
      logger[type === "Warning" ? "warn" : "info"]({ component, object: about, reason }, message);
      pending = pending.then(() => write({ object, type, reason, message }));
      return Promise.resolve();
    },
  };
}

interface EventInput {
  object: Resource;
  type: EventType;
  reason: string;
  message: string;
}

async function upsertEvent(store: Store, component: string, input: EventInput): Promise<void> {
  const { object } = input;
  const namespace = object.metadata.namespace ?? "default";
  const digest = createHash("sha256")
    .update(`${object.metadata.uid ?? ""}\0${input.type}\0${input.reason}\0${input.message}`)
    .digest("hex")
    .slice(0, 16);
  const name = `${object.metadata.name}.${digest}`;
  const existing = await store.get<Event>({ kind: "Event", namespace, name });
  const timestamp = now();
  if (existing) {
    await store.update<Event>({ ...existing, count: existing.count + 1, lastTimestamp: timestamp });
    return;
  }
  const event: Event = {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name, namespace, ...ownedBy(object) },
    involvedObject: {
      apiVersion: object.apiVersion,
      kind: object.kind,
      name: object.metadata.name,
      ...(object.metadata.namespace === undefined ? {} : { namespace: object.metadata.namespace }),
      ...(object.metadata.uid === undefined ? {} : { uid: object.metadata.uid }),
    },
    type: input.type,
    reason: input.reason,
    message: input.message,
    count: 1,
    firstTimestamp: timestamp,
    lastTimestamp: timestamp,
    source: { component },
  };
  await store.create(event);
}

/** Events are owned by their object (same namespace) so they go when it goes. */
function ownedBy(object: Resource): Pick<Event["metadata"], "ownerReferences"> {
  const uid = object.metadata.uid;
  if (uid === undefined || object.metadata.namespace === undefined) return {};
  return { ownerReferences: [{ apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name, uid }] };
}
