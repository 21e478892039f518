/** The secret keyring: read which keys exist, rotate to a new key, re-encrypt everything under the newest. */
import type { Endpoint } from "../endpoint.ts";
import { MethodNotAllowedError } from "../http-errors.ts";
import { KEYS_GROUP, ok, rbac, type SecurityServices } from "./services.ts";

/** The endpoint for `keyring[/rotate|/rewrap]`. */
export function keyringEndpoint(services: SecurityServices, method: string, action: string | undefined): Endpoint {
  const attributes = (verb: string): Parameters<typeof rbac>[0] => ({ verb, apiGroup: KEYS_GROUP, resource: "keyring" });
  if (action === undefined) {
    if (method !== "GET") throw new MethodNotAllowedError(`${method} is not allowed on keyring; use GET, or POST keyring/rotate or keyring/rewrap`);
    return { permission: () => rbac(attributes("get")), run: () => Promise.resolve(ok(services.keys.describe())) };
  }
  if (method !== "POST") throw new MethodNotAllowedError(`${method} is not allowed on keyring/${action}; use POST`);
  if (action === "rotate") return { permission: () => rbac(attributes("rotate")), run: async () => ok(await services.keys.rotate()) };
  if (action === "rewrap") return { permission: () => rbac(attributes("rewrap")), run: async () => ok(await services.keys.rewrap()) };
  throw new MethodNotAllowedError(`keyring/${action} is not served; actions: rotate, rewrap`);
}
