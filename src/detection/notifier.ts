/**
 * Announces incidents on every NotificationChannel whose severity filter lets them through: one signed message per
 * incident opened, retried with exponential backoff, every attempt recorded in the incident. A message names the
 * incident and what it is about; it never carries a secret value (nor the channel's own secret).
 */
import { randomUUID } from "node:crypto";
import { fetch } from "undici";
import { DETECTION_NAMESPACE, SEVERITIES, notificationChannelSchema, type Incident, type NotificationChannel, type Secret, type Severity } from "../api/index.ts";
import { errorMessage } from "../errors/index.ts";
import type { Store } from "../store/index.ts";
import type { Logger } from "../util/index.ts";
import { changeIncidentStatus, timelineEntry } from "./incident-status.ts";
import { signingKeyOf, signWebhook, webhookUrlProblem } from "./webhook.ts";

/** What a notifier needs; `backoffMs` is the first retry delay (doubled each time). */
export interface NotifierOptions {
  store: Store;
  logger: Logger;
  backoffMs?: number;
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number;
}

/** The message sent for an incident: what it is and where to look, nothing secret. */
export function notificationBody(incident: Incident, type: string, timestamp: Date): string {
  const status = incident.status;
  return JSON.stringify({
    type,
    timestamp: timestamp.toISOString(),
    data: {
      incident: incident.metadata.name,
      namespace: incident.metadata.namespace,
      rule: incident.spec.rule,
      severity: incident.spec.severity,
      summary: incident.spec.summary,
      state: status?.state,
      firstSeen: status?.firstSeen,
      affectedUsers: status?.affectedUsers ?? [],
      sourceAddresses: status?.sourceAddresses ?? [],
      evidenceCount: status?.evidence.auditIDs.length ?? 0,
      describe: `holdfast incident describe ${incident.metadata.name}`,
    },
  });
}

/** Whether a channel takes incidents of `severity`. */
export function channelAccepts(channel: NotificationChannel, severity: Severity): boolean {
  return SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(channel.spec.minSeverity);
}

/** Sends incident notifications. */
export class Notifier {
  readonly #options: NotifierOptions;
  #stopped = false;

  constructor(options: NotifierOptions) {
    this.#options = options;
  }

  /** No retry starts after this (a new leader sends what is left of its own incidents). */
  stop(): void {
    this.#stopped = true;
  }

  /** Send `type` for `incident` on every channel that takes it; resolves when every channel has succeeded or given up. */
  async announce(incident: Incident, type: string): Promise<void> {
    const channels = await this.#channels();
    await Promise.all(channels.filter((channel) => channelAccepts(channel, incident.spec.severity)).map((channel) => this.#deliver(channel, incident, type)));
  }

  async #channels(): Promise<NotificationChannel[]> {
    const list = await this.#options.store.list("NotificationChannel", { namespace: DETECTION_NAMESPACE });
    return list.items.flatMap((item) => {
      const parsed = notificationChannelSchema.safeParse(item);
      return parsed.success ? [parsed.data] : [];
    });
  }

  async #deliver(channel: NotificationChannel, incident: Incident, type: string): Promise<void> {
    const messageId = `msg_${randomUUID()}`;
    const body = notificationBody(incident, type, new Date());
    const name = channel.metadata.name;
    const record = (attempt: number, outcome: "Delivered" | "Failed", detail: { statusCode?: number; message?: string }, final: boolean): Promise<void> =>
      this.#record(incident.metadata.name, { channel: name, messageId, attempt, time: new Date().toISOString(), outcome, ...detail }, final);
    for (let attempt = 1; attempt <= channel.spec.maxAttempts && !this.#stopped; attempt += 1) {
      const result = await this.#attempt(channel, messageId, body);
      const final = result.outcome === "Delivered" || attempt === channel.spec.maxAttempts;
      await record(attempt, result.outcome, result, final).catch((error: unknown) => this.#options.logger.warn({ err: error, incident: incident.metadata.name }, "cannot record a notification attempt"));
      if (result.outcome === "Delivered") return;
      if (!final) await sleep((this.#options.backoffMs ?? 1000) * 2 ** (attempt - 1));
    }
  }

  async #attempt(channel: NotificationChannel, messageId: string, body: string): Promise<{ outcome: "Delivered" | "Failed"; statusCode?: number; message?: string }> {
    const problem = webhookUrlProblem(channel.spec.webhook.url);
    if (problem !== undefined) return { outcome: "Failed", message: `spec.webhook.url ${problem}` };
    const key = await this.#signingKey(channel);
    if (typeof key === "string") return { outcome: "Failed", message: key };
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const response = await fetch(channel.spec.webhook.url, {
        method: "POST",
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
        headers: { "content-type": "application/json", "webhook-id": messageId, "webhook-timestamp": String(timestamp), "webhook-signature": signWebhook(key, messageId, timestamp, body) },
      });
      await response.body?.cancel();
      const ok = response.status >= 200 && response.status < 300;
      return ok ? { outcome: "Delivered", statusCode: response.status } : { outcome: "Failed", statusCode: response.status, message: `the receiver answered ${response.status}` };
    } catch (error) {
      return { outcome: "Failed", message: errorMessage(error) };
    }
  }

  /** The channel's HMAC key, or why it cannot be had (a message that names the Secret, never its value). */
  async #signingKey(channel: NotificationChannel): Promise<Buffer | string> {
    const ref = channel.spec.webhook.secretRef;
    const secret = await this.#options.store.get<Secret>({ kind: "Secret", namespace: DETECTION_NAMESPACE, name: ref.name }).catch(() => undefined);
    const encoded = secret?.data?.[ref.key];
    if (encoded === undefined) return `the signing secret ${DETECTION_NAMESPACE}/${ref.name} (key ${ref.key}) does not exist`;
    return signingKeyOf(Buffer.from(encoded, "base64").toString("utf8"));
  }

  async #record(incident: string, attempt: NonNullable<Incident["status"]>["notifications"][number], final: boolean): Promise<void> {
    await changeIncidentStatus(this.#options.store, incident, (status) => {
      status.notifications.push(attempt);
      if (!final) return;
      const delivered = attempt.outcome === "Delivered";
      const detail = delivered ? `delivered to ${attempt.channel} (attempt ${attempt.attempt})` : `not delivered to ${attempt.channel} after ${attempt.attempt} attempts: ${attempt.message ?? ""}`;
      status.timeline.push(timelineEntry("holdfast", delivered ? "Notified" : "NotificationFailed", detail));
    });
    this.#options.logger.info({ incident, channel: attempt.channel, attempt: attempt.attempt, outcome: attempt.outcome, statusCode: attempt.statusCode }, "incident notification attempt");
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
