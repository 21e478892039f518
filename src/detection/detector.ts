/**
 * The leader's half of detection: a controller over SecuritySignal objects. Each batch is read through the rules,
 * its findings booked as incidents (new ones announced), the rules' state saved in the DetectionState object, and
 * the batch deleted. A new leader loads the state and carries on with the batches left; a batch read twice (the
 * leader lost between booking and deleting it) updates the same open incidents, it does not open new ones.
 */
import { DETECTION_API_VERSION, DETECTION_NAMESPACE, securitySignalSchema, type DetectionState } from "../api/index.ts";
import { AlreadyExistsError } from "../errors/index.ts";
import { Controller, splitKey, type Reconciler } from "../controllers/runtime/index.ts";
import type { Store } from "../store/index.ts";
import type { Logger } from "../util/index.ts";
import { bookFinding } from "./incident-book.ts";
import { Notifier } from "./notifier.ts";
import { evaluateRules } from "./rules.ts";
import type { DetectionSettings } from "./settings.ts";
import { emptyState, pruneWindows, stateFrom, type DetectorState } from "./state.ts";

const STATE_NAME = "detection-state";
/** Windows idle for longer than the longest configurable window are forgotten. */
const WINDOW_RETENTION_MS = 24 * 3600_000;

/** What the detector needs: the (fenced) store of this term, the settings, a logger. */
export interface DetectorOptions {
  store: Store;
  settings: DetectionSettings;
  logger: Logger;
  /** First retry delay of notifications (default 1 s). */
  notificationBackoffMs?: number;
}

class SignalReconciler implements Reconciler {
  readonly #options: DetectorOptions;
  readonly #notifier: Notifier;
  #state: DetectorState | undefined;

  constructor(options: DetectorOptions, notifier: Notifier) {
    this.#options = options;
    this.#notifier = notifier;
  }

  async reconcile(key: string): Promise<undefined> {
    const { namespace, name } = splitKey(key);
    const { store } = this.#options;
    const found = await store.get({ kind: "SecuritySignal", namespace: namespace ?? DETECTION_NAMESPACE, name });
    if (found === undefined) return undefined;
    const parsed = securitySignalSchema.safeParse(found);
    if (parsed.success) await this.#read(parsed.data.spec.events);
    else this.#options.logger.warn({ signal: name }, "a SecuritySignal that is not one was dropped");
    await store.delete({ kind: "SecuritySignal", namespace: namespace ?? DETECTION_NAMESPACE, name }).catch(() => undefined);
    return undefined;
  }

  async #read(events: Parameters<typeof evaluateRules>[0][]): Promise<void> {
    const state = await this.#loadState();
    const { settings, store, logger } = this.#options;
    for (const event of events) {
      for (const finding of evaluateRules(event, state, settings)) {
        const booked = await bookFinding(store, finding, settings.maxEvidence);
        if (!booked.opened) continue;
        const incident = booked.incident;
        logger.info({ incident: incident.metadata.name, rule: finding.rule, severity: finding.severity, subject: finding.subject }, "incident opened");
        void this.#notifier.announce(incident, "incident.opened").catch((error: unknown) => logger.warn({ err: error, incident: incident.metadata.name }, "cannot announce the incident"));
      }
    }
    pruneWindows(state, Date.now(), WINDOW_RETENTION_MS);
    await this.#saveState(state);
  }

  async #loadState(): Promise<DetectorState> {
    if (this.#state !== undefined) return this.#state;
    const stored = await this.#options.store.get<DetectionState>({ kind: "DetectionState", namespace: DETECTION_NAMESPACE, name: STATE_NAME });
    this.#state = stored === undefined ? emptyState() : stateFrom(stored.spec.state);
    return this.#state;
  }

  async #saveState(state: DetectorState): Promise<void> {
    const { store } = this.#options;
    const ref = { kind: "DetectionState", namespace: DETECTION_NAMESPACE, name: STATE_NAME };
    const stored = await store.get<DetectionState>(ref);
    const spec = { state: JSON.parse(JSON.stringify(state)) as Record<string, unknown> };
    if (stored !== undefined) {
      await store.update<DetectionState>({ ...stored, spec });
      return;
    }
    await store.create<DetectionState>({ apiVersion: DETECTION_API_VERSION, kind: "DetectionState", metadata: { name: STATE_NAME, namespace: DETECTION_NAMESPACE }, spec }).catch((error: unknown) => {
      if (!(error instanceof AlreadyExistsError)) throw error;
    });
  }
}

/** The detector of one leadership term; `stop()` when the term ends. */
export function createDetector(options: DetectorOptions): Controller {
  const notifier = new Notifier({ store: options.store, logger: options.logger, ...(options.notificationBackoffMs === undefined ? {} : { backoffMs: options.notificationBackoffMs }) });
  return new Controller({
    name: "detection",
    store: options.store,
    logger: options.logger,
    workers: 1,
    watches: [{ kind: "SecuritySignal" }],
    reconciler: new SignalReconciler(options, notifier),
    onStop: () => {
      notifier.stop();
      return Promise.resolve();
    },
  });
}
