/** Ages and expiry of what Holdfast signs and encrypts with: the API's certificates, the secret keyring, the audit key. */
import { X509Certificate } from "node:crypto";
import { stat } from "node:fs/promises";
import { Gauge, type Registry } from "prom-client";
import type { Sample } from "./object-metrics.ts";

/** Where the material is, and how to list the keyring's keys. */
export interface KeyMaterial {
  /** PEM of the API's serving certificate and of the CA that signed it. */
  servingCertificate: string;
  caCertificate: string;
  /** The secret keyring's keys (ids and creation times). */
  keyringKeys(): readonly { id: string; createdAt: string }[];
  /** The audit log's signing key file (its age is the file's). */
  auditSigningKeyFile: string;
}

/** When a certificate became valid and when it expires (Unix ms). */
export interface Validity {
  name: string;
  from: number;
  to: number;
}

/**
 * The validity of each certificate, read once: the PEMs are fixed for the life of the gauges, and parsing them took
 * about 0.3 ms each, four times per scrape.
 */
export function validityOf(certificates: Record<string, string>): Validity[] {
  return Object.entries(certificates).map(([name, pem]) => {
    const certificate = new X509Certificate(pem);
    return { name, from: Date.parse(certificate.validFrom), to: Date.parse(certificate.validTo) };
  });
}

/** Age (seconds) and seconds until expiry of each certificate. */
export function certificateSamples(validity: readonly Validity[], nowMs: number): { age: Sample[]; expiry: Sample[] } {
  return {
    age: validity.map(({ name, from }) => ({ labels: { certificate: name }, value: (nowMs - from) / 1000 })),
    expiry: validity.map(({ name, to }) => ({ labels: { certificate: name }, value: (to - nowMs) / 1000 })),
  };
}

/** How long a read of the signing key file's time is used before it is read again (the file changes on rotation only). */
export const KEY_FILE_REFRESH_MS = 60_000;

/**
 * When a file was last modified, read beside the scrapes: a scrape uses the last reading and, when it is older than
 * `refreshMs`, starts the next one without waiting for it.
 */
export class FileTime {
  readonly #path: string;
  readonly #refreshMs: number;
  #mtimeMs: number | undefined;
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<void> | undefined;

  constructor(path: string, refreshMs: number) {
    this.#path = path;
    this.#refreshMs = refreshMs;
  }

  /** The last reading (undefined when the file is missing or not read yet); refreshed in the background when due. */
  current(nowMs: number): number | undefined {
    if (nowMs - this.#readAt >= this.#refreshMs) void this.refresh(nowMs);
    return this.#mtimeMs;
  }

  /** Read the file's time now (one read at a time). */
  refresh(nowMs = Date.now()): Promise<void> {
    this.#readAt = nowMs;
    this.#reading ??= stat(this.#path)
      .then(
        (found) => (this.#mtimeMs = found.mtimeMs),
        () => (this.#mtimeMs = undefined),
      )
      .then(() => (this.#reading = undefined));
    return this.#reading;
  }
}

/** Register the gauges. */
export function registerKeyAges(registry: Registry, material: KeyMaterial): void {
  const registers = [registry];
  const signingKey = new FileTime(material.auditSigningKeyFile, KEY_FILE_REFRESH_MS);
  void signingKey.refresh();
  const certificates = validityOf({ "api-serving": material.servingCertificate, "api-ca": material.caCertificate });
  new Gauge({
    name: "holdfast_certificate_age_seconds",
    help: "Seconds since a certificate of the API became valid",
    labelNames: ["certificate"],
    registers,
    collect() {
      this.reset();
      for (const sample of certificateSamples(certificates, Date.now()).age) this.set(sample.labels, sample.value);
    },
  });
  new Gauge({
    name: "holdfast_certificate_expiry_seconds",
    help: "Seconds until a certificate of the API expires (negative: expired)",
    labelNames: ["certificate"],
    registers,
    collect() {
      this.reset();
      for (const sample of certificateSamples(certificates, Date.now()).expiry) this.set(sample.labels, sample.value);
    },
  });
  new Gauge({
    name: "holdfast_key_age_seconds",
    help: "Seconds since a key was made: the secret keyring's keys (by id) and the audit signing key",
    labelNames: ["key"],
    registers,
    collect() {
      this.reset();
      const now = Date.now();
      for (const key of material.keyringKeys()) this.set({ key: `keyring/${key.id}` }, (now - Date.parse(key.createdAt)) / 1000);
      const signing = signingKey.current(now);
      if (signing !== undefined) this.set({ key: "audit-signing" }, (now - signing) / 1000);
    },
  });
}
