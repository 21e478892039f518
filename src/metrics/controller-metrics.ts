/** Work-queue depth, wait and retries, and reconcile time and errors, per controller. */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** What a controller offers to be observed (src/controllers/runtime Controller). */
export interface ObservableController {
  readonly name: string;
  readonly depth: number;
  observe(observer: { waited(ms: number): void; retried(): void; reconciled(ms: number, failed: boolean): void }): void;
}

const QUEUE_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60];

/** The controller metric families; controllers of a new leadership term replace those of the last one by name. */
export class ControllerMetrics {
  readonly #controllers = new Map<string, ObservableController>();
  readonly #waited: Histogram<"controller">;
  readonly #retries: Counter<"controller">;
  readonly #reconciles: Histogram<"controller">;
  readonly #errors: Counter<"controller">;

  constructor(registry: Registry) {
    const registers = [registry];
    const controllers = this.#controllers;
    new Gauge({
      name: "holdfast_workqueue_depth",
      help: "Keys waiting in a controller's work queue",
      labelNames: ["controller"],
      registers,
      collect() {
        this.reset();
        for (const [name, controller] of controllers) this.set({ controller: name }, controller.depth);
      },
    });
    this.#waited = new Histogram({ name: "holdfast_workqueue_queue_duration_seconds", help: "How long a key waited in the queue before a worker took it", labelNames: ["controller"], buckets: QUEUE_BUCKETS, registers });
    this.#retries = new Counter({ name: "holdfast_workqueue_retries_total", help: "Keys queued again after a failed reconcile (with backoff)", labelNames: ["controller"], registers });
    this.#reconciles = new Histogram({ name: "holdfast_reconcile_duration_seconds", help: "Time of one reconcile pass", labelNames: ["controller"], buckets: QUEUE_BUCKETS, registers });
    this.#errors = new Counter({ name: "holdfast_reconcile_errors_total", help: "Reconcile passes that failed", labelNames: ["controller"], registers });
  }

  /** Observe `controller` from now on. */
  register(controller: ObservableController): void {
    const labels = { controller: controller.name };
    this.#controllers.set(controller.name, controller);
    controller.observe({
      waited: (ms) => this.#waited.observe(labels, ms / 1000),
      retried: () => this.#retries.inc(labels),
      reconciled: (ms, failed) => {
        this.#reconciles.observe(labels, ms / 1000);
        if (failed) this.#errors.inc(labels);
      },
    });
  }
}
