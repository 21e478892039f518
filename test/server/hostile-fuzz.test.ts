// Hostile requests, generated from a fixed seed, against the real API server signed in as its administrator, so they
// reach routing, admission and the store (not just 401): paths over every kind (dot segments, bad encodings, names a
// kind refuses), query parameters, headers and bodies (wrong types, deep nesting, prototype keys, broken JSON).
// The server must answer every one below 500 and stay healthy.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { request as httpsRequest, Agent as HttpsAgent } from "node:https";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allKinds, apiVersionOf, type KindInfo } from "../../src/api/index.ts";
import { EngineCatalog, builtinEngines } from "../../src/engines/index.ts";
import { createApiServer, type ApiServer } from "../../src/server/index.ts";
import { openSqliteStore, type Store } from "../../src/store/index.ts";
import { silentLogger } from "../../src/util/index.ts";
import { openSecureApi, type SecureApi } from "../helpers/secure-api.ts";

const SEED = 0x5eed_2026;
const REQUESTS = 6000;
const PARALLEL = 8;
const TIME_LIMIT_MS = 150_000;

let home: string;
let store: Store;
let server: ApiServer;
let secure: SecureApi;
let base: URL;
let ca: string;
let agent: HttpsAgent;

before(async () => {
  home = mkdtempSync(join(tmpdir(), "holdfast-fuzz-"));
  store = openSqliteStore({ path: join(home, "store.db") });
  secure = await openSecureApi(home, store);
  ca = readFileSync(join(home, "tls", "ca.crt"), "utf8");
  server = createApiServer({ store, engines: new EngineCatalog(builtinEngines()), logger: silentLogger(), version: "0.1.0", ...secure.serverOptions });
  base = new URL((await server.listen("127.0.0.1", 0)).url);
  agent = new HttpsAgent({ ca, keepAlive: true, maxSockets: PARALLEL });
  for (const name of ["demo", "fz"]) {
    const created = await send({ method: "POST", path: "/api/v1/namespaces", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name } }) });
    assert.equal(created.status, 201);
  }
});

after(async () => {
  agent.destroy();
  await server.close();
  await secure.close();
  store.close();
  rmSync(home, { recursive: true, force: true });
});

/** A small deterministic generator (mulberry32): the same seed gives the same requests on every run. */
class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(max: number): number {
    return Math.floor(this.next() * max);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

const HOSTILE_NAMES = [
  "..", ".", "%2e%2e", "%2E.", ".%2e", "%2e", "..%2f..", "%2f", "a%2Fb", "%00", "a%00b", "%ZZ", "%", "%u002e", "UPPER", "-x", "x-", "a_b", "a b",
  "ü", "%C3%BC", "%F0%9F%92%A3", "x".repeat(300), "a".repeat(64), "a.b", "system:x", "*", "~", "'", '"', "<script>", "con", "NaN", "__proto__", "constructor",
  "fz-a", "fz-b", "fz-c", "demo", "default",
];
const VALID_NAMES = ["fz-a", "fz-b", "fz-c", "fz-d", "demo", "fz", "pg", "fz-a.b"];
const NAMESPACES = ["demo", "fz", "nope", "..", "%2e%2e", "UP", "default", "a.b", "x".repeat(70), "%00"];
const SECURITY_PATHS = [
  "/apis/authentication.holdfast.io/v1alpha1/users",
  "/apis/authentication.holdfast.io/v1alpha1/users/fz-user",
  "/apis/authentication.holdfast.io/v1alpha1/users/fz-user/password",
  "/apis/authentication.holdfast.io/v1alpha1/users/fz-user/disable",
  "/apis/authentication.holdfast.io/v1alpha1/users/fz-user/reset-mfa",
  "/apis/authentication.holdfast.io/v1alpha1/users/%2e%2e",
  "/apis/authentication.holdfast.io/v1alpha1/apitokens",
  "/apis/authentication.holdfast.io/v1alpha1/apitokens/abcdef",
  "/apis/authentication.holdfast.io/v1alpha1/whoami",
  "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
  "/apis/authorization.k8s.io/v1/subjectaccessreviews",
  "/apis/audit.holdfast.io/v1alpha1/auditevents",
  "/apis/keys.holdfast.io/v1alpha1/keyring",
  "/apis/dataprotection.kubeblocks.io/v1alpha1/namespaces/demo/backups/fz-a/verify",
];
const OTHER_PATHS = ["/", "/api", "/apis", "/version", "/healthz", "/api/v1", "/api/v2", "/apis/apps.kubeblocks.io", "/apis/nope/v1", "/openapi/v2", "//api//v1//namespaces", "/api/v1/namespaces/demo/..", "/api/v1/namespaces/demo/%2e%2e/", "/api/v1/namespaces/demo/secrets/a/b/c/d", "/..", "/%2e%2e/api/v1"];
const QUERY_KEYS = ["watch", "labelSelector", "fieldSelector", "resourceVersion", "resourceVersionMatch", "limit", "continue", "timeoutSeconds", "allowWatchBookmarks", "dryRun", "fieldManager", "fieldValidation", "propagationPolicy", "gracePeriodSeconds", "pretty", "timeout", "uid", "all", "username", "since", "foo", "__proto__"];
const QUERY_VALUES = ["true", "True", "FALSE", "1", "0", "All", "Some", "", "a=b", "metadata.name=fz-a", "metadata.name!=x,metadata.namespace==demo", "spec.x=1", "involvedObject.name=fz-a", "=", "!", "a in (b", "-1", "99999999999", "NaN", "1e3", "NotOlderThan", "Exact", "Background", "Orphan", "%", "%00", "x".repeat(2000)];
const CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml", "application/json-patch+json", "application/vnd.kubernetes.protobuf", "text/plain", "application/yaml", "", "multipart/form-data; boundary=x", "APPLICATION/JSON"];
const METHODS = ["GET", "GET", "GET", "POST", "POST", "POST", "PUT", "PUT", "PATCH", "PATCH", "PATCH", "DELETE", "DELETE", "HEAD", "OPTIONS", "PROPFIND"];

function kindPrefix(kind: KindInfo): string {
  return kind.group === "" ? `/api/${kind.version}` : `/apis/${apiVersionOf(kind)}`;
}

/** Mostly names a kind accepts (so requests reach admission and the store), often hostile ones. */
function nameFor(random: Random): string {
  return random.chance(0.75) ? random.pick(VALID_NAMES) : random.pick(HOSTILE_NAMES);
}

function pathFor(random: Random, kind: KindInfo, method: string): string {
  const namespace = kind.namespaced && !random.chance(0.1) ? `/namespaces/${random.chance(0.8) ? random.pick(["demo", "fz"]) : random.pick(NAMESPACES)}` : "";
  // Mostly the shape the method is served on: POST to a collection, PUT/PATCH/DELETE to an object.
  const named = method === "POST" ? random.chance(0.15) : method === "GET" ? random.chance(0.5) : random.chance(0.9);
  const name = named ? `/${nameFor(random)}` : "";
  const sub = name !== "" && random.chance(0.15) ? random.pick(["/status", "/scale", "/..", "/verify", "/%2e%2e", "/status/x"]) : "";
  return `${kindPrefix(kind)}${namespace}/${kind.plural}${name}${sub}`;
}

const READ_QUERIES = ["watch=True&timeoutSeconds=1", "fieldSelector=metadata.name%3Dfz-a", "labelSelector=app%3Dfz", "limit=500&resourceVersion=0", "fieldSelector=involvedObject.name%3Dfz-a"];
const WRITE_QUERIES = ["dryRun=All", "fieldManager=kubectl-client-side-apply&fieldValidation=Strict", "dryRun=All&fieldManager=kubectl", "propagationPolicy=Background", "gracePeriodSeconds=0"];

function queryFor(random: Random, method: string): string {
  if (random.chance(0.6)) return "";
  if (random.chance(0.6)) return `?${random.pick(method === "GET" ? READ_QUERIES : WRITE_QUERIES)}`;
  const params: string[] = [];
  const count = 1 + random.int(4);
  for (let i = 0; i < count; i += 1) params.push(`${random.pick(QUERY_KEYS)}=${encodeURIComponent(random.pick(QUERY_VALUES))}`);
  if (random.chance(0.05)) params.push("%ZZ=%ZZ");
  return `?${params.join("&")}`;
}

function scalar(random: Random): unknown {
  return random.pick<unknown>(["", "x", "..", "UPPER", -1, 0, 1.5, 2 ** 53, 1e308, true, false, null, [], {}, "x".repeat(5000), "\u0000", "ü", "200", "0.5Gi", "-1Gi", "Delete", "WipeOut"]);
}

function deep(depth: number): unknown {
  let value: unknown = { leaf: true };
  for (let i = 0; i < depth; i += 1) value = i % 2 === 0 ? { nested: value } : [value];
  return value;
}

/** A plausible object of `kind`, then mutated: fields dropped, retyped, nested or named hostile. */
function bodyFor(random: Random, kind: KindInfo): unknown {
  const object: Record<string, unknown> = {
    apiVersion: random.chance(0.9) ? apiVersionOf(kind) : random.pick(["v1", "apps/v1", "", "x/y/z"]),
    kind: random.chance(0.9) ? kind.kind : random.pick(["Pod", "", "Cluster", "List"]),
    metadata: { name: nameFor(random), ...(random.chance(0.5) ? { namespace: random.pick(NAMESPACES) } : {}), labels: random.chance(0.3) ? { a: scalar(random) } : { app: "fz" } },
    spec: specFor(random, kind),
  };
  for (let i = random.int(4); i > 0; i -= 1) mutate(random, object);
  return object;
}

function specFor(random: Random, kind: KindInfo): unknown {
  switch (kind.kind) {
    case "Cluster":
      return {
        clusterDef: random.pick(["postgresql", "redis", "mysql", ""]),
        topology: random.pick(["replication", "standalone", "x"]),
        terminationPolicy: random.pick(["Delete", "WipeOut", "DoNotTerminate", "Halt", "x"]),
        componentSpecs: [{ name: random.pick(["postgresql", "redis", ".."]), serviceVersion: random.pick(["15", "16", "7", "x"]), replicas: scalar(random), resources: { limits: { cpu: scalar(random), memory: scalar(random) } } }],
        ...(random.chance(0.2) ? { restore: { backupName: random.pick(HOSTILE_NAMES), backupNamespace: random.pick(NAMESPACES) } } : {}),
      };
    case "OpsRequest":
      return { clusterName: random.pick(HOSTILE_NAMES), type: random.pick(["Restart", "Stop", "Start", "HorizontalScaling", "VerticalScaling", "Switchover", "Reconfiguring", "Backup", "x"]), restart: [{ componentName: scalar(random) }], horizontalScaling: [{ componentName: "postgresql", replicas: scalar(random) }] };
    case "Role":
    case "ClusterRole":
      return undefined;
    default:
      return random.chance(0.5) ? {} : { x: scalar(random) };
  }
}

type Mutation = (random: Random, object: Record<string, unknown>, metadata: Record<string, unknown>) => void;

// One is picked per step; several steps may apply to one body.
const MUTATIONS: readonly Mutation[] = [
  (_random, object) => delete object["spec"],
  (random, object) => (object["spec"] = scalar(random)),
  (random, object) => (object["metadata"] = scalar(random)),
  (random, _object, metadata) => (metadata["name"] = scalar(random)),
  (random, object) => (object["spec"] = deep(1 + random.int(3000))),
  (_random, object, metadata) => {
    // JSON.parse makes __proto__ an own key, so it reaches the server as sent.
    object["spec"] = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}') as unknown;
    metadata["labels"] = JSON.parse('{"__proto__": "x"}') as unknown;
  },
  (random, object) => {
    object["rules"] = [{ verbs: ["*"], apiGroups: ["*"], resources: scalar(random) }];
    object["roleRef"] = { apiGroup: "rbac.authorization.k8s.io", kind: random.pick(["ClusterRole", "Role", "x"]), name: random.pick(HOSTILE_NAMES) };
    object["subjects"] = [{ kind: random.pick(["User", "Group", "ServiceAccount"]), name: scalar(random) }];
  },
  (random, object) => {
    object["data"] = { k: random.pick(["", "not base64!", "aGVsbG8=", scalar(random)]) };
    object["stringData"] = { k: scalar(random) };
  },
  (random, _object, metadata) => {
    metadata["finalizers"] = [scalar(random)];
    metadata["ownerReferences"] = [{ apiVersion: "v1", kind: "Namespace", name: "demo", uid: scalar(random) }];
  },
  (random, _object, metadata) => {
    metadata["resourceVersion"] = scalar(random);
    metadata["uid"] = scalar(random);
  },
  (random, object) => (object["status"] = { phase: scalar(random), conditions: [{ type: scalar(random) }] }),
  (random, _object, metadata) => (metadata["annotations"] = { [String(scalar(random))]: scalar(random) }),
];

function mutate(random: Random, object: Record<string, unknown>): void {
  const given = object["metadata"];
  const metadata = typeof given === "object" && given !== null && !Array.isArray(given) ? (given as Record<string, unknown>) : {};
  object["metadata"] ??= metadata;
  random.pick(MUTATIONS)(random, object, metadata);
}

function textBody(random: Random, kind: KindInfo): string {
  const choice = random.int(40);
  if (choice === 0) return "{";
  if (choice === 1) return "[]";
  if (choice === 2) return "null";
  if (choice === 3) return '"x"';
  if (choice === 4) return "\u0000\u0001";
  if (choice === 5) return `{"a":${"[".repeat(5000)}`;
  if (choice === 6) return "apiVersion: v1\nkind: Secret\n";
  if (choice === 7) return JSON.stringify({ kind: "DeleteOptions", apiVersion: "v1", dryRun: [random.pick(["All", "x"])], propagationPolicy: random.pick(["Background", "Orphan", 1]), gracePeriodSeconds: scalar(random), preconditions: { uid: scalar(random) } });
  if (choice === 8) return JSON.stringify({ username: random.pick(["fz-user", "..", "admin", scalar(random)]), name: scalar(random), password: scalar(random), expiresInSeconds: scalar(random) });
  if (choice === 9) return JSON.stringify({ spec: { resourceAttributes: { verb: scalar(random), resource: scalar(random), namespace: scalar(random) }, user: scalar(random) } });
  return JSON.stringify(bodyFor(random, kind));
}

// Optional headers: how often each is sent, and the values it takes.
const OPTIONAL_HEADERS: readonly [number, string, readonly string[]][] = [
  [0.2, "Accept", ["application/json", "application/vnd.kubernetes.protobuf", "application/json;as=Table;v=v1;g=meta.k8s.io", "*/*", "text/html"]],
  [0.1, "X-Forwarded-For", ["10.0.0.1", "::1, 127.0.0.1", "x".repeat(500)]],
  [0.1, "Impersonate-User", ["admin", "system:anonymous", "x"]],
  [0.1, "User-Agent", ["kubectl/v1.32.4", "OpenAPI-Generator/31.0.0/python", "\u00ff", "x".repeat(4000)]],
  [0.05, "Content-Encoding", ["gzip", "br", "x"]],
  [0.05, "Expect", ["100-continue"]],
];

/** Mostly the administrator's token (so requests reach admission), sometimes a wrong or foreign credential. */
function authorizationFor(random: Random): string {
  const wrong = ["Bearer x", "Basic YTpi", `Bearer ${secure.adminToken}x`];
  return wrong[random.int(40)] ?? `Bearer ${secure.adminToken}`;
}

function headersFor(random: Random, method: string, hasBody: boolean): Record<string, string> {
  const headers: Record<string, string> = { Authorization: authorizationFor(random) };
  if (hasBody || random.chance(0.1)) headers["Content-Type"] = random.chance(0.7) ? (method === "PATCH" ? "application/merge-patch+json" : "application/json") : random.pick(CONTENT_TYPES);
  for (const [probability, name, values] of OPTIONAL_HEADERS) {
    if (random.chance(probability)) headers[name] = random.pick(values);
  }
  return headers;
}

function generate(random: Random): FuzzRequest {
  const kinds = allKinds();
  const roll = random.int(20);
  let path: string;
  const method = random.pick(METHODS);
  const kind = roll < 15 ? random.pick(kinds) : undefined;
  if (kind !== undefined) path = pathFor(random, kind, method);
  else if (roll < 18) path = random.pick(SECURITY_PATHS);
  else path = random.pick(OTHER_PATHS);
  path = pathSafe(path) + queryFor(random, method);
  const hasBody = (method === "POST" || method === "PUT" || method === "PATCH" || (method === "DELETE" && random.chance(0.3))) && random.chance(0.9);
  const request: FuzzRequest = { method, path, headers: headersFor(random, method, hasBody) };
  // The body is mostly of the path's kind, so admission sees it.
  if (hasBody) request.body = textBody(random, kind !== undefined && random.chance(0.8) ? kind : random.pick(kinds));
  return request;
}

/** Percent-encode what an HTTP request line cannot carry raw (spaces, quotes, non-ASCII); existing escapes stay as sent. */
function pathSafe(path: string): string {
  return path.replace(/[^A-Za-z0-9\-._~%!$&'()*+,;=:@/]/g, (char) => encodeURIComponent(char));
}

interface Answer {
  status: number;
  text: string;
}

/** Send one request with its path exactly as generated; a stream (watch) is closed once its status is known. */
function send(request: FuzzRequest): Promise<Answer> {
  return new Promise((resolve) => {
    const headers = { Authorization: `Bearer ${secure.adminToken}`, ...request.headers, ...(request.body === undefined ? {} : { "Content-Length": String(Buffer.byteLength(request.body)) }) };
    const outgoing = httpsRequest({ host: base.hostname, port: base.port, method: request.method, path: request.path, headers, agent, timeout: 20_000 }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        if (text.length < 2000) text += chunk;
        // A watch streams until the client leaves: its status is all this test needs.
        if (response.headers["transfer-encoding"] === "chunked" && response.statusCode === 200) response.destroy();
      });
      response.on("close", () => resolve({ status: response.statusCode ?? 0, text }));
      response.on("error", () => resolve({ status: response.statusCode ?? 0, text }));
      if (response.headers["transfer-encoding"] === "chunked" && response.statusCode === 200) setTimeout(() => response.destroy(), 200);
    });
    outgoing.on("timeout", () => outgoing.destroy(new Error("timed out")));
    outgoing.on("error", (error) => resolve({ status: -1, text: error.message }));
    outgoing.end(request.body);
  });
}

void test(`${REQUESTS} hostile requests from seed ${SEED.toString(16)}: no answer of 500 or more, and the server stays healthy`, { timeout: TIME_LIMIT_MS + 60_000 }, async () => {
  const random = new Random(SEED);
  const requests = Array.from({ length: REQUESTS }, () => generate(random));
  const started = Date.now();
  const failures: string[] = [];
  const byStatus = new Map<number, number>();
  let sent = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const index = sent;
      sent += 1;
      const request = requests[index];
      if (request === undefined || Date.now() - started > TIME_LIMIT_MS) return;
      const answer = await send(request);
      byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
      if (process.env["FUZZ_DEBUG"] !== undefined && answer.status === Number(process.env["FUZZ_DEBUG"])) console.log(`${request.method} ${answer.text.slice(0, 90)}`);
      if (answer.status >= 500 || answer.status < 100) failures.push(`#${index} ${request.method} ${request.path} [${JSON.stringify(request.headers["Content-Type"] ?? "")}] ${request.body?.slice(0, 300) ?? ""} → ${answer.status} ${answer.text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, () => worker()));
  const elapsed = Date.now() - started;
  const answered = [...byStatus.values()].reduce((a, b) => a + b, 0);
  console.log(`hostile fuzz: ${answered} requests in ${elapsed} ms; by status: ${JSON.stringify(Object.fromEntries([...byStatus].sort((a, b) => a[0] - b[0])))}`);
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} answers of 500 or more (or no answer)`);
  assert.ok(answered >= 5000, `at least 5000 requests were answered within the time limit (${answered})`);
  const health = await send({ method: "GET", path: "/healthz", headers: {} });
  assert.equal(health.status, 200);
  const list = await send({ method: "GET", path: "/api/v1/namespaces", headers: {} });
  assert.equal(list.status, 200, "the administrator can still work");
});
