/** The console's own API paths (below /console/api/): its session, and the engines it offers in the create form. */
import type { Endpoint } from "./endpoint.ts";
import type { EngineLookup } from "./engine-lookup.ts";
import { MethodNotAllowedError } from "./http-errors.ts";
import { consoleSessionEndpoint } from "./security-api/index.ts";

const SESSION_PATH = "/console/api/session";
const ENGINES_PATH = "/console/api/engines";

/** The endpoint of a console API path, or undefined when the path is not one. */
export function consoleApiEndpoint(engines: EngineLookup, method: string, pathname: string): Endpoint | undefined {
  if (pathname === SESSION_PATH) return consoleSessionEndpoint(method);
  if (pathname === ENGINES_PATH) return enginesEndpoint(engines, method);
  return undefined;
}

/** GET the built-in engines and the versions installed on this host, newest first. */
function enginesEndpoint(engines: EngineLookup, method: string): Endpoint {
  if (method !== "GET") throw new MethodNotAllowedError(`${method} is not allowed on the engine list; GET it`);
  return {
    // Which engines and versions a host has is what admission tells anyone who creates a cluster: open to all signed in, as discovery is.
    permission: () => ({ verb: "get", allowedBecause: "the installed engines are open to anyone signed in, as discovery is" }),
    run: async () => {
      const items = await Promise.all(engines.list().map(async (engine) => ({ name: engine.name, versions: (await engines.versions(engine.name)).map((v) => v.version) })));
      return { status: 200, body: { items } };
    },
  };
}
