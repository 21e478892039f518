/**
 * The control plane's Prometheus metrics, one registry per server (no global): built at start, handed to the parts
 * that report, and read by `GET /metrics`. Absent when the server runs with `--disable-metrics`.
 */
import { setImmediate } from "node:timers/promises";
import { Gauge, Histogram, Registry } from "prom-client";
import type { Store } from "../store/index.ts";
import type { Logger } from "../util/index.ts";
import { ControllerMetrics, type ObservableController } from "./controller-metrics.ts";
import { registerKeyAges, type KeyMaterial } from "./key-ages.ts";
import { ObjectTally, registerObjectMetrics } from "./object-metrics.ts";
import { RequestMetrics, type RequestSample } from "./request-metrics.ts";
import { InstrumentedStore, storeMetrics, type StoreMetrics } from "./store-metrics.ts";
import { TransitionMetrics } from "./transition-metrics.ts";

/** The audit log as the metrics see it. */
export interface ObservableAuditLog {
  readonly pending: number;
  observe(observer: { appended(ms: number, failed: boolean): void }): void;
}

const AUDIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1];

/** What the server builds its metrics from. */
export interface ControlPlaneMetricsOptions {
  /** Listed and watched for the state of clusters, instances and backups. */
  store: Store;
  logger: Logger;
}

/** Every metric family of one control-plane process. */
export class ControlPlaneMetrics {
  readonly registry = new Registry();
  readonly #requests: RequestMetrics;
  readonly #controllers: ControllerMetrics;
  readonly #store: StoreMetrics;
  readonly #transitions: TransitionMetrics;

  constructor(options: ControlPlaneMetricsOptions) {
    this.#requests = new RequestMetrics(this.registry);
    this.#controllers = new ControllerMetrics(this.registry);
    this.#store = storeMetrics(this.registry);
    const tally = new ObjectTally();
    registerObjectMetrics(this.registry, tally);
    this.#transitions = new TransitionMetrics(this.registry, { store: options.store, logger: options.logger, tally });
  }

  /** Report the audit log's append latency and queue depth. */
  observeAudit(audit: ObservableAuditLog): void {
    const registers = [this.registry];
    const appends = new Histogram({ name: "holdfast_audit_append_duration_seconds", help: "Time from handing a record to the audit log to its being durable (fsync), by outcome", labelNames: ["outcome"], buckets: AUDIT_BUCKETS, registers });
    audit.observe({ appended: (ms, failed) => appends.observe({ outcome: failed ? "error" : "ok" }, ms / 1000) });
    new Gauge({
      name: "holdfast_audit_queue_depth",
      help: "Audit records accepted and not yet durable",
      registers,
      collect() {
        this.set(audit.pending);
      },
    });
  }

  /** Report the ages of the certificates and keys. */
  observeKeys(material: KeyMaterial): void {
    registerKeyAges(this.registry, material);
  }

  /** Start the watches that count what finishes. */
  start(): Promise<void> {
    return this.#transitions.start();
  }

  stop(): void {
    this.#transitions.stop();
  }

  /** `store`, with its operations timed. */
  instrumentStore(store: Store): Store {
    return new InstrumentedStore(store, this.#store);
  }

  /** Report `controller`'s queue and reconciles. */
  observeController(controller: ObservableController): void {
    this.#controllers.register(controller);
  }

  /** Count one answered request. */
  observeRequest(sample: RequestSample): void {
    this.#requests.observe(sample);
  }

  /**
   * The exposition: Prometheus text format, as `Registry.metrics()` writes it, one family at a time with a turn of
   * the event loop between families, so that requests that arrive during a scrape are not held for the whole of it.
   */
  async exposition(): Promise<{ contentType: string; text: string }> {
    const families: string[] = [];
    for (const metric of this.registry.getMetricsAsArray()) {
      families.push(await this.registry.getSingleMetricAsString(metric.name));
      await setImmediate();
    }
    return { contentType: this.registry.contentType, text: `${families.join("\n\n")}\n` };
  }
}
