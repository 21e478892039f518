/**
 * An instance rebuilt on another node while this one was lost (ADR 0027) names this node in `spec.formerNodes`. When
 * this node's agent is back, it stops the instance's process if one still runs here (never two copies running), moves
 * its files aside (kept, out of the way of a later rebuild here), and takes its node off the list.
 */
import { rename } from "node:fs/promises";
import type { Instance } from "../api/index.ts";
import type { Engine, InstanceContext } from "../engines/index.ts";
import { findAdoptableProcess, type ProcessSupervisor, type ServiceUser } from "../runtime/index.ts";
import type { Store } from "../store/index.ts";
import type { EventRecorder } from "../controllers/runtime/index.ts";
import { exists } from "../engines/index.ts";

/** Does this node still have to let go of `instance` (bound elsewhere, this node among its former ones)? */
export function isFormerNode(instance: Instance, nodeName: string): boolean {
  return instance.spec.nodeName !== nodeName && (instance.spec.formerNodes ?? []).includes(nodeName);
}

/** What releasing needs: the instance as this node knew it (its engine, its local files, its OS user). */
export interface FormerCopy {
  instance: Instance;
  engine: Engine;
  ctx: InstanceContext;
  user: ServiceUser;
}

/** Where this node's files of a released instance go: beside them, named by when. */
export function releasedPath(rootDirectory: string, at: Date): string {
  return `${rootDirectory}.released-${at.toISOString().replace(/[:.]/g, "-")}`;
}

/** Stop the local process, move the files aside, take this node off spec.formerNodes (a conflict retries the whole). */
export async function releaseFormerCopy(deps: { store: Store; events: EventRecorder; supervisor: ProcessSupervisor; nodeName: string }, copy: FormerCopy): Promise<void> {
  const { instance, engine, ctx, user } = copy;
  const running = await findAdoptableProcess(engine.pidFile(ctx), engine.startCommand(ctx).command, user);
  if (running !== undefined) await deps.supervisor.stop(running.pid, running.startTicks, engine.stop);
  const movedTo = (await exists(ctx.rootDirectory)) ? releasedPath(ctx.rootDirectory, new Date()) : undefined;
  if (movedTo !== undefined) await rename(ctx.rootDirectory, movedTo);
  const formerNodes = (instance.spec.formerNodes ?? []).filter((n) => n !== deps.nodeName);
  const { formerNodes: _old, ...spec } = instance.spec;
  const updated = await deps.store.update<Instance>({ ...instance, spec: { ...spec, ...(formerNodes.length === 0 ? {} : { formerNodes }) } });
  const stopped = running === undefined ? "no process of it ran here" : `stopped its process ${running.pid} here`;
  const files = movedTo === undefined ? "no files of it were here" : `its files here were moved to ${movedTo} (remove them when no longer needed)`;
  await deps.events.record(updated, "Normal", "Released", `node ${deps.nodeName} let go of its former copy (the instance was rebuilt on node ${instance.spec.nodeName ?? ""}): ${stopped}; ${files}`);
}
