/**
 * API tokens: anyone signed in manages their own (a token holds exactly its owner's permissions); acting on
 * another user's tokens needs RBAC on `apitokens`, and creating one for another user also needs every permission
 * of that user (or `impersonate` on them). A token never outlives the credential it was created with.
 */
import { z } from "zod";
import { NotFoundError } from "../../errors/index.ts";
import { checkActingAs, normalizeUsername, type Identity } from "../../security/index.ts";
import type { Endpoint, Permission } from "../endpoint.ts";
import { MethodNotAllowedError } from "../http-errors.ts";
import { AUTHENTICATION_GROUP, ok, parseBody, rbac, selfService, success, type SecurityServices } from "./services.ts";

const createSchema = z.strictObject({
  name: z.string(),
  expiresInSeconds: z.number().int().positive(),
  username: z.string().optional(),
});

const OWN = "users manage their own API tokens";

function permissionFor(identity: Identity, verb: string, owner: string | undefined, id?: string): Permission {
  const attributes = { verb, apiGroup: AUTHENTICATION_GROUP, resource: "apitokens", ...(id === undefined ? {} : { name: id }) };
  const own = owner !== undefined && normalizeUsername(owner) === identity.username;
  return own ? selfService(attributes, OWN) : rbac(attributes);
}

/** The endpoint for `apitokens[/ID]`. */
export function tokensEndpoint(services: SecurityServices, method: string, id: string | undefined): Endpoint {
  if (id !== undefined) {
    if (method !== "DELETE") throw new MethodNotAllowedError(`${method} is not allowed on apitokens/${id}; use DELETE to revoke`);
    return revoke(services, id);
  }
  if (method === "GET") return list(services);
  if (method === "POST") return create(services);
  throw new MethodNotAllowedError(`${method} is not allowed on apitokens; use GET (list) or POST (create)`);
}

/** Whose tokens a list asks for: `?all=true` (everyone's), `?username=U`, or the caller's own. */
function listedOwner(query: URLSearchParams, identity: Identity): string | undefined {
  return query.get("all") === "true" ? undefined : (query.get("username") ?? identity.username);
}

function list(services: SecurityServices): Endpoint {
  return {
    permission: (exchange) => permissionFor(exchange.identity, "list", listedOwner(exchange.query, exchange.identity)),
    run: async (exchange) => ok({ items: await services.auth.listTokens(listedOwner(exchange.query, exchange.identity)) }),
  };
}

function create(services: SecurityServices): Endpoint {
  return {
    permission: async (exchange) => permissionFor(exchange.identity, "create", (await parseBody(exchange, createSchema, "API token")).username ?? exchange.identity.username),
    run: async (exchange) => {
      const input = await parseBody(exchange, createSchema, "API token");
      const { identity } = exchange;
      const username = normalizeUsername(input.username ?? identity.username);
      // A token for someone else hands out their permissions: the escalation rule applies, as to a RoleBinding.
      if (username !== identity.username) {
        exchange.actingFor = username;
        await checkActingAs(services.authorizer, identity, await services.auth.requesterOf(username));
      }
      const parent = { kind: identity.via, id: identity.credentialId };
      const token = await services.auth.createToken({ username, name: input.name, expiresInSeconds: input.expiresInSeconds, parent });
      return ok({ ...token, username }, 201);
    },
  };
}

function revoke(services: SecurityServices, id: string): Endpoint {
  return {
    permission: async (exchange) => permissionFor(exchange.identity, "delete", await ownerOfToken(services, id), id),
    run: async () => {
      await services.auth.revokeToken(id);
      return success(`API token ${id} revoked; it is refused from now on`);
    },
  };
}

async function ownerOfToken(services: SecurityServices, id: string): Promise<string | undefined> {
  const token = (await services.auth.listTokens()).find((t) => t.id === id);
  // The id is public (listed, shown in audit records); the token's secret part is never compared here.
  // eslint-disable-next-line security/detect-possible-timing-attacks
  if (token === undefined) throw new NotFoundError(`API token ${id} not found; list tokens with holdfast token list`);
  return token.username;
}
