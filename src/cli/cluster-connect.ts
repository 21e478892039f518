/** `holdfast cluster connect`: open the engine's client on a ready instance, credentials from the account Secret. */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { accountSecretName, dns1123SubdomainSchema, findKind } from "../api/index.ts";
import type { KindInfo, Resource } from "../api/index.ts";
import { LOOPBACK, type Credentials, type Engine } from "../engines/index.ts";
import { CliError } from "./args.ts";
import type { ApiClient } from "./client.ts";
import { trustedCaFile } from "./context.ts";
import { list, record, text } from "./fields.ts";

/** Which cluster, component and account to connect to. */
export interface ConnectTarget {
  cluster: string;
  namespace: string;
  component?: string;
  account?: string;
  /** The address the CLI reaches the cluster's endpoints at: the node it talks to (every node serves them, ADR 0025). */
  endpointHost: string;
}

/** Where and as whom to connect. */
export interface Connection {
  engine: Engine;
  /** The endpoint's node address, or the instance's own (status.host) when the component has no endpoint. */
  host: string;
  port: number;
  credentials: Credentials;
  instance: string;
  /** What the port leads to: the read-write endpoint, or the instance itself. */
  target: string;
  /** The CA its clients verify against when the component serves the user's certificate (issuer UserProvided). */
  userCa?: UserCa;
}

/** The CA of a component's `UserProvided` Secret, to verify its certificate with instead of the cluster CA. */
export interface UserCa {
  /** `<namespace>/<cluster>/<component>`: where the CLI keeps a copy of it. */
  component: string;
  pem: string;
}

/** The Secret and key holding the CA of a component with `tls: true` and issuer UserProvided (pure); undefined otherwise. */
export function userCaRef(cluster: Resource, component: string): { secret: string; key: string } | undefined {
  const spec = list(cluster, "spec.componentSpecs").find((c) => text(c, "name") === component);
  const secret = text(spec, "issuer.secretRef.name");
  if (text(spec, "tls") !== "true" || text(spec, "issuer.name") !== "UserProvided" || secret === "") return undefined;
  return { secret, key: text(spec, "issuer.secretRef.ca", "ca.crt") };
}

async function userCaOf(client: ApiClient, target: ConnectTarget, cluster: Resource, component: string): Promise<UserCa | undefined> {
  const ref = userCaRef(cluster, component);
  if (ref === undefined) return undefined;
  const secret = await client.get(mustKindInfo("Secret"), target.namespace, ref.secret);
  // Keys hold dots (ca.crt): read the data map rather than a dotted path.
  const encoded = record(secret, "data")[ref.key];
  if (typeof encoded !== "string" || encoded === "") throw new CliError(`secret ${target.namespace}/${ref.secret} has no key ${ref.key}: component ${component} serves its certificate and clients verify it with that CA`);
  return { component: `${target.namespace}/${target.cluster}/${component}`, pem: Buffer.from(encoded, "base64").toString("utf8") };
}

/** The read-write endpoint of a component recorded in the cluster's status, if it has one (pure). */
export function readWriteEndpoint(cluster: Resource, component: string): { name: string; port: number } | undefined {
  const endpoint = list(cluster, "status.endpoints").find((e) => text(e, "component") === component && text(e, "access") === "ReadWrite");
  const port = Number(text(endpoint, "port"));
  return endpoint === undefined || !Number.isInteger(port) || port <= 0 ? undefined : { name: text(endpoint, "name"), port };
}

function mustKindInfo(kind: string): KindInfo {
  const info = findKind(kind);
  if (!info) throw new Error(`kind ${kind} is not registered`);
  return info;
}

/** The instance to connect to: the ready primary, else the first ready one (pure). */
export function pickInstance(instances: readonly Resource[]): Resource | undefined {
  const ready = instances.filter((i) => text(i, "status.ready") === "true");
  const byName = [...ready].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return byName.find((i) => (text(i, "status.role") || text(i, "spec.role")) === "primary") ?? byName[0];
}

/** Username and password from an account Secret's base64 `data`. */
export function credentialsFromSecret(secret: Resource): Credentials {
  const username = text(secret, "data.username");
  const password = text(secret, "data.password");
  if (username === "" || password === "") {
    throw new CliError(`secret ${secret.metadata.name} has no username or password; the cluster controller writes it when the cluster is created`);
  }
  return { username: Buffer.from(username, "base64").toString("utf8"), password: Buffer.from(password, "base64").toString("utf8") };
}

function componentOf(cluster: Resource, requested: string | undefined): string {
  const names = list(cluster, "spec.componentSpecs").map((c) => text(c, "name"));
  if (requested === undefined) {
    const first = names[0];
    if (first === undefined) throw new CliError(`cluster ${cluster.metadata.name} has no components`);
    return first;
  }
  if (!names.includes(requested)) throw new CliError(`cluster ${cluster.metadata.name} has no component ${requested}; its components are ${names.join(", ")}`);
  return requested;
}

async function readyInstance(client: ApiClient, target: ConnectTarget, component: string): Promise<Resource> {
  const selector = `app.kubernetes.io/instance=${target.cluster},apps.kubeblocks.io/component-name=${component}`;
  const instances = (await client.list(mustKindInfo("Instance"), target.namespace, { labelSelector: selector })).items;
  const chosen = pickInstance(instances);
  if (chosen === undefined) {
    const phases = instances.map((i) => `${i.metadata.name}: ${text(i, "status.phase", "Pending")}`).join(", ");
    throw new CliError(
      `no ready instance in component ${component} of cluster ${target.cluster}${phases === "" ? "" : ` (${phases})`}; ` +
        `wait for it with "holdfast wait cluster/${target.cluster} -n ${target.namespace} --for=phase=Running"`,
    );
  }
  return chosen;
}

/** Where to connect (pure): the read-write endpoint on `endpointHost`, else the instance where it listens. */
export function addressOf(endpoint: { port: number } | undefined, instance: Resource, endpointHost: string): { host: string; port: number } {
  if (endpoint !== undefined) return { host: endpointHost, port: endpoint.port };
  return { host: text(instance, "status.host", LOOPBACK), port: Number(text(instance, "spec.port")) };
}

/**
 * The Secret of `account`: a system account's by its name; else a managed user's (DatabaseUser, ADR 0046), found by
 * the account labels its Secret carries as system accounts' do.
 */
async function accountSecret(client: ApiClient, target: ConnectTarget, component: string, account: string): Promise<Resource> {
  const name = accountSecretName(target.cluster, component, account);
  // A managed user's name may hold '_', which no Secret name has: then only the labels can find it.
  const byName = dns1123SubdomainSchema.safeParse(name).success ? await client.find(mustKindInfo("Secret"), target.namespace, name) : undefined;
  if (byName !== undefined) return byName;
  const selector = `app.kubernetes.io/instance=${target.cluster},apps.kubeblocks.io/component-name=${component},apps.kubeblocks.io/system-account=${account}`;
  const labelled = (await client.list(mustKindInfo("Secret"), target.namespace, { labelSelector: selector })).items[0];
  if (labelled === undefined) throw new CliError(`component ${component} of cluster ${target.cluster} has no account ${account} (no secret ${name}, and no DatabaseUser's); see holdfast get databaseusers -n ${target.namespace}`);
  return labelled;
}

/** Resolve the cluster, a ready instance, its engine and the account's credentials. */
export async function resolveConnection(client: ApiClient, engines: readonly Engine[], target: ConnectTarget): Promise<Connection> {
  const cluster = await client.get(mustKindInfo("Cluster"), target.namespace, target.cluster);
  const component = componentOf(cluster, target.component);
  const instance = await readyInstance(client, target, component);
  const engineName = text(instance, "spec.engine");
  const engine = engines.find((e) => e.name === engineName);
  if (engine === undefined) throw new CliError(`instance ${instance.metadata.name} runs engine "${engineName}", which this holdfast does not know`);
  const account = target.account ?? engine.systemAccounts[0]?.name;
  if (account === undefined) throw new CliError(`engine ${engine.name} defines no system accounts; pass --account`);
  const secret = await accountSecret(client, target, component, account);
  const endpoint = readWriteEndpoint(cluster, component);
  const via = endpoint === undefined ? instance.metadata.name : `${endpoint.name} (read-write endpoint, now ${instance.metadata.name})`;
  const userCa = await userCaOf(client, target, cluster, component);
  return { engine, ...addressOf(endpoint, instance, target.endpointHost), credentials: credentialsFromSecret(secret), instance: instance.metadata.name, target: via, ...(userCa === undefined ? {} : { userCa }) };
}

/** Where the CLI keeps the CA of a component's UserProvided Secret (pure): `<home>/client-ca/<namespace>.<cluster>.<component>.crt`. */
export function userCaFile(home: string, ca: Pick<UserCa, "component">): string {
  return join(home, "client-ca", `${ca.component.replaceAll("/", ".")}.crt`);
}

/**
 * The CA file clients of `connection` verify its certificate against: the copy of the user's CA when the component
 * serves the certificate of its UserProvided Secret (rewritten when the Secret's CA changed), else the cluster CA, the
 * one this CLI trusts for the API.
 */
export function connectionTrust(connection: Pick<Connection, "userCa">, home: string): { caFile: string } {
  const ca = connection.userCa;
  if (ca === undefined) return { caFile: trustedCaFile(home) };
  const caFile = userCaFile(home, ca);
  const current = (() => {
    try {
      return readFileSync(caFile, "utf8");
    } catch {
      return undefined;
    }
  })();
  if (current !== ca.pem) {
    mkdirSync(join(home, "client-ca"), { recursive: true, mode: 0o700 });
    writeFileSync(caFile, ca.pem, { mode: 0o644 });
  }
  return { caFile };
}
