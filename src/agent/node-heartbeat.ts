/**
 * The node agent's registration and heartbeat: it creates its Node at start, then every few seconds writes the
 * Node's status (the facts of the machine, the heartbeat time, Ready=True). One status write per heartbeat, and none
 * other: the node lifecycle controller tells a stopped agent by the heartbeat's age (ADR 0020).
 */
import { NODE_HEARTBEAT_INTERVAL_MS, nodeLabels, now, type Node } from "../api/index.ts";
import { AlreadyExistsError, ConflictError, errorMessage } from "../errors/index.ts";
import type { Store } from "../store/index.ts";
import type { Logger } from "../util/index.ts";
import type { EngineLookup } from "../controllers/cluster/index.ts";
import { gatherNodeFacts, type NodeIdentity } from "./node-facts.ts";
import { heartbeatStatus } from "./node-status.ts";

/** What the heartbeat needs. */
export interface NodeHeartbeatOptions {
  nodeName: string;
  identity: NodeIdentity;
  store: Store;
  engines: Pick<EngineLookup, "list" | "versions">;
  logger: Logger;
  /** Default NODE_HEARTBEAT_INTERVAL_MS. */
  intervalMs?: number;
  /** The Node's labels (`--node-labels`), written at start beside its hostname label; absent, the labels it has are kept. */
  labels?: Readonly<Record<string, string>>;
}

export class NodeHeartbeat {
  readonly #o: NodeHeartbeatOptions;
  #apiUrl: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> = Promise.resolve();

  constructor(options: NodeHeartbeatOptions) {
    this.#o = options;
  }

  /** Register the Node (create it, or take over the one of this name) and post the first heartbeat; then keep beating. */
  async start(): Promise<void> {
    await this.beat();
    await this.#label();
    this.#timer = setInterval(() => void this.#beatLogged(), this.#o.intervalMs ?? NODE_HEARTBEAT_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Report the API server's URL (known once it listens), at once. */
  async setApiUrl(url: string): Promise<void> {
    this.#apiUrl = url;
    await this.beat();
  }

  /** Stop beating; the Node stays, and is marked not Ready once its heartbeat is older than the grace period. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#beating;
  }

  /** One heartbeat (heartbeats never overlap). */
  beat(): Promise<void> {
    const next = this.#beating.then(() => this.#write());
    this.#beating = next.catch(() => undefined);
    return next;
  }

  async #beatLogged(): Promise<void> {
    try {
      await this.beat();
    } catch (error) {
      this.#o.logger.warn({ node: this.#o.nodeName, err: errorMessage(error) }, "node heartbeat failed; retrying at the next one");
    }
  }

  async #write(): Promise<void> {
    const facts = await gatherNodeFacts(this.#o.identity, this.#o.engines, this.#apiUrl);
    for (let attempt = 1; ; attempt++) {
      const node = (await this.#o.store.get<Node>({ kind: "Node", name: this.#o.nodeName })) ?? (await this.#register());
      try {
        // Not durable (no fsync on the event loop every 5 s): a heartbeat lost in a power cut is written again at the restart.
        await this.#o.store.updateStatus<Node>({ ...node, status: heartbeatStatus(node, facts, now()) }, { durable: false });
        return;
      } catch (error) {
        // The lifecycle controller wrote the Node in between: beat again on its version.
        if (!(error instanceof ConflictError) || attempt >= 3) throw error;
      }
    }
  }

  /** Give the Node its labels: those it was started with (else the ones it has) and its hostname label. */
  async #label(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const node = await this.#o.store.get<Node>({ kind: "Node", name: this.#o.nodeName });
      if (node === undefined) return;
      const labels = nodeLabels(this.#o.nodeName, this.#o.labels ?? node.metadata.labels ?? {});
      if (JSON.stringify(labels) === JSON.stringify(node.metadata.labels ?? {})) return;
      try {
        await this.#o.store.update<Node>({ ...node, metadata: { ...node.metadata, labels } });
        this.#o.logger.info({ node: this.#o.nodeName, labels }, "node labels set");
        return;
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt >= 3) throw error;
      }
    }
  }

  async #register(): Promise<Node> {
    const node: Node = { apiVersion: "holdfast.io/v1alpha1", kind: "Node", metadata: { name: this.#o.nodeName }, spec: {} };
    try {
      const created = await this.#o.store.create(node);
      this.#o.logger.info({ node: this.#o.nodeName }, "registered this node");
      return created;
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
      const existing = await this.#o.store.get<Node>({ kind: "Node", name: this.#o.nodeName });
      if (existing === undefined) throw error;
      return existing;
    }
  }
}
