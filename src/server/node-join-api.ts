/**
 * Joining control-plane nodes (kubeadm's model):
 * - `POST /apis/holdfast.io/v1alpha1/jointokens` (RBAC: create jointokens; cluster-admin only by default) mints a
 *   single-use, expiring token and answers with the `holdfast init --join` command that uses it;
 * - `GET /apis/holdfast.io/v1alpha1/clusterinfo` (no credentials) gives the cluster CA certificate, which the new
 *   node checks against the `--ca-cert-hash` it was given before it sends anything secret;
 * - `POST /apis/holdfast.io/v1alpha1/nodejoins` (no credentials; the token is the credential) takes the token and a
 *   certificate signing request, and answers with the node's serving certificate, the store configuration and the
 *   key-encryption key. Both public endpoints are audited (never their bodies).
 */
import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { nodeNameSchema } from "../api/index.ts";
import { InputError } from "../errors/index.ts";
import type { Endpoint } from "./endpoint.ts";
import { MethodNotAllowedError } from "./http-errors.ts";
import type { PublicEndpoint } from "./pipeline.ts";
import { readJsonBody, requireMediaType } from "./request-body.ts";
import { parseBody } from "./security-api/index.ts";

/** The API group and version of the join endpoints. */
export const NODE_JOIN_API = "/apis/holdfast.io/v1alpha1";
const GROUP = "holdfast.io";
const JOIN_BODY_LIMIT = 16 * 1024;

/** What a new node sends. */
export const nodeJoinRequestSchema = z.strictObject({
  token: z.string().max(64),
  nodeName: nodeNameSchema,
  /** The address (IP or DNS name) other nodes and clients reach the new node at: put in its certificate. */
  advertise: z.string().min(1).max(253),
  /** PEM of a PKCS#10 request for the new node's own key. */
  csr: z.string().max(8192),
});
export type NodeJoinRequest = z.infer<typeof nodeJoinRequestSchema>;

const mintSchema = z.strictObject({ ttlSeconds: z.int().min(60).max(7 * 86_400) });

/** What the server offers for joins (absent: the endpoints are not served, e.g. on the embedded store). */
export interface NodeJoinApi {
  clusterInfo(): Promise<{ caCertificate: string; caCertHash: string }>;
  createJoinCommand(ttlSeconds: number): Promise<{ command: string; expiresAt: string }>;
  join(request: NodeJoinRequest): Promise<unknown>;
}

/** The public (credential-less) join endpoints, if the path is one. */
export function publicNodeJoinEndpoint(api: NodeJoinApi | undefined, pathname: string): PublicEndpoint | undefined {
  const path = pathname.replace(/\/+$/, "");
  if (path === `${NODE_JOIN_API}/clusterinfo`) {
    return { verb: "get", objectRef: { apiGroup: GROUP, resource: "clusterinfo" }, run: (request) => clusterInfo(api, request) };
  }
  if (path !== `${NODE_JOIN_API}/nodejoins`) return undefined;
  return {
    verb: "create",
    objectRef: { apiGroup: GROUP, resource: "nodejoins" },
    run: async (request, draft) => {
      if (request.method !== "POST") throw new MethodNotAllowedError(`${request.method ?? ""} is not allowed on nodejoins; POST {token, nodeName, advertise, csr}`);
      requireMediaType(request, "application/json");
      const parsed = nodeJoinRequestSchema.safeParse(await readJsonBody(request, JOIN_BODY_LIMIT));
      if (!parsed.success) throw new InputError("a join needs a JSON body {token, nodeName, advertise, csr}; use the command holdfast node join-command printed");
      draft.user = { username: `system:node:${parsed.data.nodeName}`, groups: ["system:nodes"] };
      return { status: 201, body: await requireApi(api).join(parsed.data) };
    },
  };
}

async function clusterInfo(api: NodeJoinApi | undefined, request: IncomingMessage): Promise<{ status: number; body: unknown }> {
  if (request.method !== "GET") throw new MethodNotAllowedError(`${request.method ?? ""} is not allowed on clusterinfo; it is read-only (GET)`);
  return { status: 200, body: await requireApi(api).clusterInfo() };
}

function requireApi(service: NodeJoinApi | undefined): NodeJoinApi {
  if (service === undefined) throw new InputError("this server does not take new nodes: it runs on the embedded store (holdfast init --store etcd://... makes a home other nodes can join)");
  return service;
}

/** `POST jointokens`, if the path is it. */
export function joinTokensEndpoint(api: NodeJoinApi | undefined, method: string, segments: readonly string[]): Endpoint | undefined {
  if (`/${segments.join("/")}` !== `${NODE_JOIN_API}/jointokens`) return undefined;
  if (method !== "POST") throw new MethodNotAllowedError(`${method} is not allowed on jointokens; use POST {ttlSeconds}`);
  return {
    permission: () => ({ verb: "create", attributes: { verb: "create", apiGroup: GROUP, resource: "jointokens" } }),
    run: async (exchange) => {
      const { ttlSeconds } = await parseBody(exchange, mintSchema, "join token request");
      return { status: 201, body: await requireApi(api).createJoinCommand(ttlSeconds) };
    },
  };
}
