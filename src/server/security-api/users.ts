/** Users: list, read, create (secrets shown once), disable/enable, MFA reset, password change, delete. */
import { z } from "zod";
import { NotFoundError } from "../../errors/index.ts";
import { generatePassword, normalizeUsername } from "../../security/index.ts";
import { MethodNotAllowedError } from "../http-errors.ts";
import type { Endpoint } from "../endpoint.ts";
import { AUTHENTICATION_GROUP, ok, parseBody, rbac, success, type SecurityServices } from "./services.ts";

const createSchema = z.strictObject({ username: z.string(), password: z.string().optional() });
const passwordSchema = z.strictObject({ password: z.string().optional() });

function attributes(verb: string, name?: string, subresource?: string): Parameters<typeof rbac>[0] {
  return { verb, apiGroup: AUTHENTICATION_GROUP, resource: "users", ...(name === undefined ? {} : { name }), ...(subresource === undefined ? {} : { subresource }) };
}

/** The endpoint for `users[/NAME[/ACTION]]`. */
export function usersEndpoint(services: SecurityServices, method: string, name: string | undefined, action: string | undefined): Endpoint {
  if (name === undefined) return collection(services, method);
  if (action === undefined) return member(services, method, name);
  if (method !== "POST") throw new MethodNotAllowedError(`${method} is not allowed on users/${name}/${action}; use POST`);
  return userAction(services, name, action);
}

function collection(services: SecurityServices, method: string): Endpoint {
  if (method === "GET") return { permission: () => rbac(attributes("list")), run: async () => ok({ items: await services.auth.listUsers() }) };
  if (method === "POST") {
    return {
      permission: () => rbac(attributes("create")),
      run: async (exchange) => {
        const input = await parseBody(exchange, createSchema, "user");
        const created = await services.auth.createUser(input.password === undefined ? { username: input.username } : { username: input.username, password: input.password });
        return ok(created, 201);
      },
    };
  }
  throw new MethodNotAllowedError(`${method} is not allowed on users; use GET (list) or POST (create)`);
}

function member(services: SecurityServices, method: string, name: string): Endpoint {
  if (method === "GET") return { permission: () => rbac(attributes("get", name)), run: async () => ok(await summaryOf(services, name)) };
  if (method === "DELETE") {
    return {
      permission: () => rbac(attributes("delete", name)),
      run: async () => {
        await services.auth.deleteUser(name);
        return success(`user ${name} deleted; their sessions and API tokens no longer work`);
      },
    };
  }
  throw new MethodNotAllowedError(`${method} is not allowed on users/${name}; use GET or DELETE`);
}

function userAction(services: SecurityServices, name: string, action: string): Endpoint {
  switch (action) {
    case "disable":
    case "enable":
      return {
        permission: () => rbac(attributes("update", name)),
        run: async () => {
          await services.auth.setDisabled(name, action === "disable");
          return ok(await summaryOf(services, name));
        },
      };
    case "reset-mfa":
      return { permission: () => rbac(attributes("update", name, "mfa")), run: async () => ok({ username: name, ...(await services.auth.resetMfa(name)) }) };
    case "password":
      return { permission: () => rbac(attributes("update", name, "password")), run: async (exchange) => setPassword(services, name, (await parseBody(exchange, passwordSchema, "password change")).password) };
    default:
      throw new MethodNotAllowedError(`users/${name}/${action} is not served; actions: disable, enable, reset-mfa, password`);
  }
}

async function setPassword(services: SecurityServices, name: string, given: string | undefined): Promise<ReturnType<typeof ok>> {
  const password = given ?? generatePassword();
  await services.auth.setPassword(name, password);
  return ok(given === undefined ? { username: name, password } : { username: name });
}

async function summaryOf(services: SecurityServices, name: string): Promise<unknown> {
  const username = normalizeUsername(name);
  const found = (await services.auth.listUsers()).find((user) => user.username === username);
  if (found === undefined) throw new NotFoundError(`user "${name}" not found; list users with holdfast user list`);
  return found;
}
