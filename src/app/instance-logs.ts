/**
 * Instance logs as the API serves them: the node agent of this node reads the logs of the instances bound here; the
 * log of an instance on another node is asked of that node's API with the caller's own credential (so that node
 * authenticates, authorizes and audits the read too).
 */
import { readFile } from "node:fs/promises";
import { Agent, fetch } from "undici";
import { nodeAddress, type Instance, type Node } from "../api/index.ts";
import { exporterLogFile, followLog, instanceLayout, instanceLogFile, readLogEnd, selectLines } from "../agent/index.ts";
import type { HomePaths } from "../config/index.ts";
import type { Engine } from "../engines/index.ts";
import { InputError, NotFoundError, UnavailableError, errorMessage } from "../errors/index.ts";
import type { InstanceLogApi, LogRequest, LogSource } from "../server/index.ts";
import type { Store } from "../store/index.ts";

/** What the log service needs. */
export interface InstanceLogOptions {
  store: Store;
  paths: HomePaths;
  nodeName: string;
  /** The engine of an instance (its `spec.engine`), for its connection log (`container=audit`). */
  engine(name: string): Engine | undefined;
}

/** The container names a log request may give. */
const CONTAINERS = new Set(["database", "exporter", "audit"]);

function fileOf(options: InstanceLogOptions, instance: Instance, container: string | undefined): string {
  if (container === "exporter") return exporterLogFile(options.paths, instance);
  if (container !== "audit") return instanceLogFile(options.paths, instance);
  const file = options.engine(instance.spec.engine)?.logins?.logFile?.(instanceLayout(options.paths, instance)).path;
  if (file === undefined) throw new NotFoundError(`instance ${instance.metadata.name} keeps no connection log apart from its database log (${instance.spec.engine}): read that one, without -c`);
  return file;
}

async function localLog(options: InstanceLogOptions, instance: Instance, request: LogRequest): Promise<LogSource> {
  const file = fileOf(options, instance, request.container);
  const { text, size } = await readLogEnd(file).catch((error: unknown) => {
    if (error instanceof NotFoundError && request.container === "exporter") throw new NotFoundError(`instance ${instance.metadata.name} has no exporter log: it runs no exporter`);
    throw error;
  });
  return {
    text: selectLines(text, request, Date.now()),
    follow: (write) => followLog(file, size, write),
  };
}

function remoteQuery(request: LogRequest): string {
  const query = new URLSearchParams();
  if (request.tailLines !== undefined) query.set("tailLines", String(request.tailLines));
  if (request.sinceSeconds !== undefined) query.set("sinceSeconds", String(request.sinceSeconds));
  if (request.follow) query.set("follow", "true");
  if (request.container !== undefined) query.set("container", request.container);
  return query.size === 0 ? "" : `?${query.toString()}`;
}

async function remoteLog(options: InstanceLogOptions, instance: Instance, request: LogRequest, bearer: string | undefined): Promise<LogSource> {
  const nodeName = instance.spec.nodeName ?? "";
  const node = await options.store.get<Node>({ kind: "Node", name: nodeName });
  const url = node === undefined ? undefined : nodeAddress(node, "APIServer");
  if (url === undefined || bearer === undefined) throw new UnavailableError(`the log of ${instance.metadata.name} is on node ${nodeName}, whose API address is not known; try again on that node`);
  const dispatcher = new Agent({ connect: { ca: await readFile(options.paths.tls.caCertificate, "utf8") } });
  const path = `/apis/holdfast.io/v1alpha1/namespaces/${encodeURIComponent(instance.metadata.namespace ?? "default")}/instances/${encodeURIComponent(instance.metadata.name)}/log`;
  const response = await fetch(`${url}${path}${remoteQuery(request)}`, { headers: { Authorization: `Bearer ${bearer}` }, dispatcher }).catch((error: unknown) => {
    throw new UnavailableError(`node ${nodeName} does not answer for the log of ${instance.metadata.name}: ${errorMessage(error)}`, { cause: error });
  });
  if (response.status !== 200 || response.body === null) {
    await dispatcher.close();
    throw new UnavailableError(`node ${nodeName} answered ${response.status} for the log of ${instance.metadata.name}`);
  }
  if (!request.follow) {
    const text = await response.text();
    await dispatcher.close();
    return { text };
  }
  return { text: "", follow: (write, end) => pipe(response.body as unknown as AsyncIterable<Uint8Array>, write, end, () => void dispatcher.close()) };
}

function pipe(body: AsyncIterable<Uint8Array>, write: (chunk: string) => void, end: () => void, close: () => void): { stop(): void } {
  const state = { stopped: false };
  const decoder = new TextDecoder();
  void (async () => {
    try {
      for await (const chunk of body) {
        if (state.stopped) break;
        write(decoder.decode(chunk, { stream: true }));
      }
    } catch {
      // The other node went away: the stream ends.
    }
    close();
    if (!state.stopped) end();
  })();
  return {
    stop() {
      state.stopped = true;
    },
  };
}

/** The instance log service of this node. */
export function instanceLogService(options: InstanceLogOptions): InstanceLogApi {
  return {
    async open(namespace, name, request, bearer) {
      if (request.container !== undefined && !CONTAINERS.has(request.container)) throw new InputError(`unknown container "${request.container}": use database (the default), exporter or audit`);
      const instance = await options.store.get<Instance>({ kind: "Instance", namespace, name });
      if (instance === undefined) throw new NotFoundError(`instance ${namespace}/${name} not found; list them with holdfast get instances -n ${namespace}`);
      const nodeName = instance.spec.nodeName;
      if (nodeName !== undefined && nodeName !== options.nodeName) return remoteLog(options, instance, request, bearer);
      return localLog(options, instance, request);
    },
  };
}
