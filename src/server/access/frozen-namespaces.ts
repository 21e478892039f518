/**
 * Frozen namespaces: a containment step makes a namespace read-only for everyone but cluster administrators (those
 * allowed every verb on every resource), until it is unfrozen. The frozen set follows the store by a watch, so the
 * check costs no store read per request, and it is the same on every control-plane node.
 */
import type { Namespace } from "../../api/index.ts";
import { ForbiddenError } from "../../errors/index.ts";
import type { Authorizer, Identity, RequestAttributes } from "../../security/index.ts";
import type { Store, Watch } from "../../store/index.ts";

/** The annotation a frozen namespace carries; its value names the incident that froze it. */
export const FROZEN_ANNOTATION = "holdfast.io/frozen-by-incident";

/** The namespaces frozen now, kept current from the store. */
export class FrozenNamespaces {
  readonly #frozen = new Set<string>();
  readonly #store: Store;
  #watch: Watch | undefined;
  #ready: Promise<void> | undefined;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Refuse a write in a frozen namespace unless the requester is a cluster administrator. */
  async check(authorizer: Authorizer, identity: Identity, attributes: RequestAttributes): Promise<void> {
    await (this.#ready ??= this.#start());
    const namespace = attributes.namespace ?? (attributes.resource === "namespaces" && attributes.apiGroup === "" ? attributes.name : undefined);
    if (namespace === undefined || !this.#frozen.has(namespace)) return;
    const admin = await authorizer.authorize(identity, { verb: "*", apiGroup: "*", resource: "*" });
    if (admin.allowed) return;
    throw new ForbiddenError(`namespace ${namespace} is frozen by an incident response (read-only for everyone but cluster administrators); ask an administrator to unfreeze it`);
  }

  /** Stop following the store. */
  close(): void {
    this.#watch?.stop();
  }

  async #start(): Promise<void> {
    const list = await this.#store.list<Namespace>("Namespace");
    this.#frozen.clear();
    for (const namespace of list.items) this.#note(namespace, false);
    this.#watch = this.#store.watch({ kind: "Namespace", resourceVersion: list.resourceVersion }, (event) => this.#note(event.object as Namespace, event.type === "DELETED"), () => {
      // A broken watch lists again at the next request.
      this.#ready = undefined;
    });
  }

  #note(namespace: Namespace, deleted: boolean): void {
    const frozen = !deleted && namespace.metadata.annotations?.[FROZEN_ANNOTATION] !== undefined;
    if (frozen) this.#frozen.add(namespace.metadata.name);
    else this.#frozen.delete(namespace.metadata.name);
  }
}
