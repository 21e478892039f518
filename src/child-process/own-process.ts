/**
 * The child's side of a process of its own (launcher.ts): one job taken from the IPC channel, calls answered by the
 * parent, messages sent back, its own peak memory, and an exit as soon as the channel closes (the control plane
 * stopped or cancelled it), so that it never outlives its work.
 */
import { readFile } from "node:fs/promises";
import { flushCompileCache } from "node:module";

/** A call to the parent and its answer. */
interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** Send one message to the parent; resolves once it is written (or at once when the channel is gone). */
export function send(message: object): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

/**
 * This process's own peak resident memory (bytes): VmHWM, the high-water mark of its own address space. Not
 * `resourceUsage().maxRSS`: Linux carries into it the memory of the forked copy of the parent before exec (ADR 0050).
 */
export async function ownPeak(): Promise<number> {
  const status = await readFile("/proc/self/status", "utf8").catch(() => "");
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  return kib === undefined ? process.resourceUsage().maxRSS * 1024 : Number(kib) * 1024;
}

/** A reply to a call: `{ type: "reply", id, value }` or `{ type: "reply", id, error }` (the error as data). */
export interface CallReply {
  type: "reply";
  id: number;
  value?: unknown;
  error?: unknown;
}

/** How the job is run: parse it, do it, and say how it ended as the protocol's last message. */
export interface OwnProcessWork<Job> {
  parse(message: unknown): Job;
  run(job: Job, calls: ParentCalls): Promise<object>;
  failed(error: unknown): object;
  /** Turn an error carried in a reply back into an Error. */
  replyError(error: unknown): Error;
}

/** Calls into the parent over the IPC channel, each answered by a `reply` message with its id. */
export class ParentCalls {
  readonly #pending = new Map<number, Pending>();
  readonly #replyError: (error: unknown) => Error;
  #next = 1;

  constructor(replyError: (error: unknown) => Error) {
    this.#replyError = replyError;
  }

  /** Ask the parent `name`; resolves with its answer, rejects with the error it reported. */
  call(name: string): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      void send({ type: "call", id, name });
    });
  }

  /** A reply from the parent; false when the message is not one. */
  answer(message: unknown): boolean {
    if (typeof message !== "object" || message === null || (message as { type?: unknown }).type !== "reply") return false;
    const reply = message as CallReply;
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return false;
    this.#pending.delete(reply.id);
    if (reply.error === undefined) pending.resolve(reply.value);
    else pending.reject(this.#replyError(reply.error));
    return true;
  }
}

/** Serve one job: the first message is it; later ones answer its calls. Exits 0 after a success, 1 after a failure. */
export function serveOneJob<Job>(work: OwnProcessWork<Job>): void {
  const calls = new ParentCalls((error) => work.replyError(error));
  let started = false;
  process.once("disconnect", () => process.exit(2));
  process.on("message", (message: unknown) => {
    if (started) {
      calls.answer(message);
      return;
    }
    started = true;
    void finish(work, message, calls);
  });
}

async function finish<Job>(work: OwnProcessWork<Job>, message: unknown, calls: ParentCalls): Promise<void> {
  let outcome: object;
  let ok = false;
  try {
    outcome = await work.run(work.parse(message), calls);
    ok = true;
  } catch (error) {
    outcome = work.failed(error);
  }
  await send(outcome);
  // What this start compiled is kept for the next one (with a compile cache; a no-op without).
  flushCompileCache();
  process.exit(ok ? 0 : 1);
}
