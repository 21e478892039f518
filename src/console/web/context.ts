/** What every page is handed: the session, the main element, navigation and the user's abilities. */
import { post } from "./api.ts";
import type { Session } from "./api.ts";
import { ABILITY_ASKS, accessReview, allowed, type Abilities, type Ask } from "./model.ts";

/** A page's surroundings. */
export interface PageContext {
  session: Session;
  main: HTMLElement;
  /** Go to a route (`#/clusters`, …). */
  navigate(route: string): void;
  /** What the user may do in a namespace (or in every namespace when none is given), from access reviews. */
  abilities(namespace?: string): Promise<Abilities>;
}

/** A rendered page: stops its watches when the user leaves it. */
export type Cleanup = () => void;

/** Ask the server whether the user may do one thing. */
export async function mayI(ask: Ask): Promise<boolean> {
  return allowed(await post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", accessReview(ask)));
}

/** Abilities, asked once per namespace and remembered for the session. */
export function abilitiesCache(): (namespace?: string) => Promise<Abilities> {
  const cache = new Map<string, Promise<Abilities>>();
  return (namespace) => {
    const key = namespace ?? "";
    let found = cache.get(key);
    if (found === undefined) {
      found = askAll(namespace);
      cache.set(key, found);
    }
    return found;
  };
}

async function askAll(namespace: string | undefined): Promise<Abilities> {
  const names = Object.keys(ABILITY_ASKS) as (keyof Abilities)[];
  const answers = await Promise.all(names.map((name) => mayI({ ...ABILITY_ASKS[name], ...(namespace === undefined ? {} : { namespace }) })));
  return Object.fromEntries(names.map((name, i) => [name, answers[i] === true])) as unknown as Abilities;
}
