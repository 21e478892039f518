/**
 * The console's only way to the server: same-origin fetch with the session cookie (which scripts cannot read) and,
 * on writes, the session's CSRF token. Every call is an ordinary API request: the server authenticates, authorizes
 * and audits it as it does the CLI's.
 */
import { parseWatchChunk, type ApiObject, type WatchEvent } from "./model.ts";

/** A refused request: its HTTP status and the Kubernetes Status body. */
export class ApiError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown) {
    const message = (body as { message?: unknown } | null)?.message;
    super(typeof message === "string" ? message : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** The signed-in user and the token their writes carry. */
export interface Session {
  username: string;
  groups: string[];
  csrfToken: string;
}

let csrfToken = "";

/** Remember the session's CSRF token (it comes with login and with the session endpoint). */
export function useSession(session: Session): void {
  csrfToken = session.csrfToken;
}

async function call(method: string, path: string, body?: unknown): Promise<unknown> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(path, { method, headers, credentials: "same-origin", ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  const parsed: unknown = text === "" ? null : JSON.parse(text);
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

/** GET a path as JSON. */
export function get<T>(path: string): Promise<T> {
  return call("GET", path) as Promise<T>;
}

/** POST a JSON body. */
export function post<T>(path: string, body: unknown): Promise<T> {
  return call("POST", path, body) as Promise<T>;
}

/** Log in with password and TOTP: the server sets the session cookie and answers the CSRF token. */
export async function login(username: string, password: string, totp: string): Promise<Session> {
  const answer = await fetch("/console/api/login", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    credentials: "same-origin",
    body: JSON.stringify({ username, password, totp }),
  });
  const body = (await answer.json()) as { username?: string; csrfToken?: string; message?: string };
  if (!answer.ok) throw new ApiError(answer.status, body);
  const session = await currentSession();
  if (session === undefined) throw new Error("logged in, but the server does not know the session");
  return session;
}

/** The current session, or undefined when nobody is signed in. */
export async function currentSession(): Promise<Session | undefined> {
  try {
    const session = await get<Session>("/console/api/session");
    useSession(session);
    return session;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return undefined;
    throw error;
  }
}

/** Log out: the server revokes the session and clears the cookie. */
export async function logout(): Promise<void> {
  await post("/apis/authentication.holdfast.io/v1alpha1/logout", {});
  csrfToken = "";
}

/** A list response. */
export interface List<T> {
  metadata: { resourceVersion?: string };
  items: T[];
}

/**
 * List a collection, then watch it from the list's resourceVersion; `onEvent` gets every change. Returns a function
 * that stops watching. A broken watch is listed and watched again after a pause.
 */
export function listAndWatch<T extends ApiObject>(path: string, onList: (items: T[]) => void, onEvent: (event: WatchEvent<T>) => void): () => void {
  const controller = new AbortController();
  const stopped = (): boolean => controller.signal.aborted;
  const loop = async (): Promise<void> => {
    while (!stopped()) {
      try {
        const list = await get<List<T>>(path);
        onList(list.items);
        await watch(`${path}${path.includes("?") ? "&" : "?"}watch=true&resourceVersion=${list.metadata.resourceVersion ?? ""}`, controller.signal, onEvent);
      } catch (error) {
        if (stopped() || (error instanceof ApiError && error.status === 401)) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };
  void loop();
  return () => controller.abort();
}

async function watch<T extends ApiObject>(path: string, signal: AbortSignal, onEvent: (event: WatchEvent<T>) => void): Promise<void> {
  const response = await fetch(path, { headers: { Accept: "application/json" }, credentials: "same-origin", signal });
  if (!response.ok || response.body === null) throw new ApiError(response.status, await response.json().catch(() => null));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    const { events, rest } = parseWatchChunk(buffered + value);
    buffered = rest;
    for (const event of events) onEvent(event as WatchEvent<T>);
  }
}
