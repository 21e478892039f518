/**
 * Instance certificates that follow the nodes: every node serves each cluster's endpoints on its own address (ADR
 * 0025), so a client verifying the name it dialled (`verify-full`) reaches an instance through any of them, and the
 * instance's certificate names them all, as a Service's address would be. A node that joins while an instance runs
 * gets its address into that instance's certificate within a readiness probe: the node agent owning the instance
 * issues new files and the engine reloads them without a restart (ADR 0028, "Since"). An instance with issuer
 * UserProvided serves its Secret's certificate instead, checked before each placement and reloaded when the Secret
 * changes (ADR 0042, "Since 2026-12-07").
 */
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Instance, Node, Secret, UserProvidedTls } from "../api/index.ts";
import type { HomePaths } from "../config/index.ts";
import { errorMessage, UnavailableError } from "../errors/index.ts";
import { clientAddresses, userCertificateNames, type Credentials, type Engine, type HostAccess, type InstanceContext } from "../engines/index.ts";
import { userTlsFiles, type UserTlsOutcome } from "../security/index.ts";
import type { Store } from "../store/index.ts";
import type { EventRecorder } from "../controllers/runtime/index.ts";
import { renewalDue } from "./certificate-renewal.ts";
import { ensureInstanceTls, instanceCertificateNames, instanceTlsFiles, RENEW_BEFORE_MS } from "./instance-tls.ts";
import { userTlsInPlace, writeUserTls } from "./user-tls.ts";

/** The names an instance's certificate carries (pure): its own address and name, then every node's address, sorted. */
export function endpointCertificateNames(instanceName: string, address: string, nodes: readonly Node[]): string[] {
  // Exposed endpoints listen on the nodes' external addresses: a client verifying the name it dialled needs those too.
  return [...new Set([...instanceCertificateNames(instanceName, address), ...clientAddresses(nodes)])];
}

/** What a running instance needs to have its certificate renewed and reloaded. */
export interface RunningTls {
  instance: Instance;
  engine: Engine;
  context: InstanceContext;
  host: HostAccess;
  admin: Credentials;
}

/** Keeps each local instance's TLS files naming every node's address, before a start and while it runs. */
export class InstanceCertificates {
  readonly #store: Store;
  readonly #paths: HomePaths;
  readonly #events: EventRecorder;
  /** The address this node's databases listen on. */
  readonly #address: string;
  /** By instance key: the names the running server's certificate was loaded for (a user's Secret: its name). */
  readonly #served = new Map<string, string>();
  /** By instance key: the problems last reported of its user's Secret, so a Warning is recorded once per problem. */
  readonly #rejected = new Map<string, string>();
  /** By instance key: the user's certificate last said to be near its end, so that Warning is recorded once. */
  readonly #expiring = new Map<string, string>();

  constructor(o: { store: Store; paths: HomePaths; events: EventRecorder; address: string }) {
    this.#store = o.store;
    this.#paths = o.paths;
    this.#events = o.events;
    this.#address = o.address;
  }

  /** Before a start: TLS files for the names wanted now (the server about to start loads them). */
  async prepare(instance: Instance, context: InstanceContext, host: HostAccess): Promise<void> {
    const user = userProvidedOf(instance);
    if (user !== undefined) return this.#prepareUser(instance, user, context, host);
    const names = await this.#names(instance);
    if (await ensureInstanceTls(this.#paths, context, names, host)) {
      await this.#events.record(instance, "Normal", "CertificateIssued", `TLS certificate issued by the cluster CA for ${names.join(", ")}`);
    }
    this.#served.set(keyOf(instance), names.join(","));
  }

  /**
   * A running server: when the names changed since it loaded its certificate (a node joined), or the certificate has
   * less than RENEW_BEFORE_MS left, new files, and the engine reloads them. Also once after this node agent started,
   * since what the running server loaded is then unknown (a reload of unchanged files changes nothing). A failed reload
   * is tried again at the next probe.
   */
  async refresh(running: RunningTls): Promise<void> {
    const { instance, engine, context, host, admin } = running;
    const user = userProvidedOf(instance);
    if (user !== undefined) return this.#refreshUser(running, user);
    const names = await this.#names(instance);
    const key = keyOf(instance);
    const servedNames = this.#served.get(key);
    const served = servedNames === undefined ? undefined : { names: servedNames, validTo: await certificateValidTo(context) };
    const reason = renewalDue(served, names, new Date(), RENEW_BEFORE_MS);
    if (reason === undefined) return;
    const issued = await this.#issue(instance, context, names, host);
    if (issued === "unavailable") {
      this.#served.set(key, names.join(","));
      return;
    }
    await engine.reloadTls?.(context, admin);
    this.#served.set(key, names.join(","));
    if (!issued) return;
    const why = reason === "expiry" ? "before it expires" : `for ${names.join(", ")}`;
    const when = engine.reloadTls === undefined ? "takes effect at the next start" : "reloaded without a restart";
    await this.#events.record(instance, "Normal", "CertificateRenewed", `TLS certificate reissued by the cluster CA ${why}; ${when}`);
  }

  /** The instance is gone from this node. */
  forget(instance: Instance): void {
    this.#served.delete(keyOf(instance));
    this.#rejected.delete(keyOf(instance));
    this.#expiring.delete(keyOf(instance));
  }

  /** Before a start with a user's Secret: its files, checked; UnavailableError naming what is wrong (retried). */
  async #prepareUser(instance: Instance, tls: UserProvidedTls, context: InstanceContext, host: HostAccess): Promise<void> {
    const outcome = await this.#userOutcome(instance, tls);
    if ("problems" in outcome) {
      await this.#reject(instance, outcome.problems, "the instance does not start until the Secret is fixed");
      throw new UnavailableError(`cannot serve TLS to clients: ${outcome.problems.join("; ")}`);
    }
    if (await userTlsInPlace(context, outcome.files)) return;
    await writeUserTls(context, outcome.files, host);
    // Also called for a running server (live parameters): what it loaded is unknown until the next refresh reloads.
    this.#served.delete(keyOf(instance));
    await this.#events.record(instance, "Normal", "CertificatePlaced", `TLS certificate from secret ${tls.secretName} placed (serial ${serialOf(outcome.files.cert)})`);
  }

  /**
   * A running server with a user's Secret: when the Secret holds other files than those served (the user rotated it),
   * they are checked, written and reloaded; a Secret that fails the checks is not served (the server keeps its files)
   * and is reported once as a Warning. Reloaded once after this node agent started, as for the cluster CA's.
   */
  async #refreshUser(running: RunningTls, tls: UserProvidedTls): Promise<void> {
    const { instance, engine, context, host, admin } = running;
    const key = keyOf(instance);
    const outcome = await this.#userOutcome(instance, tls);
    if ("problems" in outcome) return this.#reject(instance, outcome.problems, "the server keeps its current certificate");
    this.#rejected.delete(key);
    await this.#warnIfExpiring(instance, tls, outcome.files.cert);
    const inPlace = await userTlsInPlace(context, outcome.files);
    if (inPlace && this.#served.get(key) === tls.secretName) return;
    if (!inPlace) await writeUserTls(context, outcome.files, host);
    await engine.reloadTls?.(context, admin);
    this.#served.set(key, tls.secretName);
    if (inPlace) return;
    const when = engine.reloadTls === undefined ? "takes effect at the next start" : "reloaded without a restart";
    await this.#events.record(instance, "Normal", "CertificateRenewed", `TLS certificate from secret ${tls.secretName} placed (serial ${serialOf(outcome.files.cert)}); ${when}`);
  }

  /** Holdfast does not renew a user's certificate: with less than RENEW_BEFORE_MS left, a Warning says so, once. */
  async #warnIfExpiring(instance: Instance, tls: UserProvidedTls, pem: string): Promise<void> {
    const certificate = new X509Certificate(pem);
    if (certificate.validToDate.getTime() - Date.now() >= RENEW_BEFORE_MS) return;
    const note = `${tls.secretName}/${certificate.serialNumber}`;
    if (this.#expiring.get(keyOf(instance)) === note) return;
    this.#expiring.set(keyOf(instance), note);
    await this.#events.record(instance, "Warning", "CertificateExpiring", `TLS certificate from secret ${tls.secretName} (serial ${certificate.serialNumber}) expires on ${certificate.validToDate.toISOString()}; Holdfast does not renew a certificate it did not issue: put a new one in the Secret`);
  }

  /** A Warning that the user's Secret is not served, and what happens instead; once per problem. */
  async #reject(instance: Instance, problems: readonly string[], instead: string): Promise<void> {
    const message = problems.join("; ");
    if (this.#rejected.get(keyOf(instance)) === message) return;
    this.#rejected.set(keyOf(instance), message);
    await this.#events.record(instance, "Warning", "CertificateRejected", `not served, ${instead}: ${message}`);
  }

  /** The files the user's Secret gives `instance` now, checked against every address clients reach it at. */
  async #userOutcome(instance: Instance, tls: UserProvidedTls): Promise<UserTlsOutcome> {
    const namespace = instance.metadata.namespace ?? "default";
    const [secret, nodes, clusterCa] = await Promise.all([
      this.#store.get<Secret>({ kind: "Secret", namespace, name: tls.secretName }),
      this.#store.list<Node>("Node"),
      readFile(this.#paths.tls.caCertificate, "utf8"),
    ]);
    const names = userCertificateNames(nodes.items, this.#address);
    return userTlsFiles(secret, tls, { namespace, clusterCa, names, now: new Date() });
  }

  async #names(instance: Instance): Promise<string[]> {
    const nodes = (await this.#store.list<Node>("Node")).items;
    return endpointCertificateNames(instance.metadata.name, this.#address, nodes);
  }

  /** ensureInstanceTls for a running server, which keeps serving its certificate when this node cannot sign a new one. */
  async #issue(instance: Instance, context: InstanceContext, names: readonly string[], host: HostAccess): Promise<boolean | "unavailable"> {
    try {
      return await ensureInstanceTls(this.#paths, context, names, host);
    } catch (error) {
      if (!(error instanceof UnavailableError)) throw error;
      await this.#events.record(instance, "Warning", "CertificateNotRenewed", errorMessage(error));
      return "unavailable";
    }
  }
}

/** When the certificate on disk expires (ms since the epoch); 0 when it cannot be read, which renews it. */
async function certificateValidTo(context: InstanceContext): Promise<number> {
  const pem = await readFile(instanceTlsFiles(context).certificateFile, "utf8").catch(() => "");
  try {
    return new X509Certificate(pem).validToDate.getTime();
  } catch {
    return 0;
  }
}

/** The issuer of `instance` when it serves a user's Secret. */
function userProvidedOf(instance: Instance): UserProvidedTls | undefined {
  const tls = instance.spec.clientTls;
  return tls?.issuer === "UserProvided" ? tls : undefined;
}

/** The serial number of the first certificate of `pem` (for events), or "unknown". */
function serialOf(pem: string): string {
  try {
    return new X509Certificate(pem).serialNumber;
  } catch {
    return "unknown";
  }
}

function keyOf(instance: Instance): string {
  return `${instance.metadata.namespace ?? "default"}/${instance.metadata.name}`;
}
