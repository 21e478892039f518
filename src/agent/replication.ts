/**
 * What the instance controller does differently for an instance of a replicated component: a replica is
 * cloned from its upstream (never initialised empty) and started only while the upstream runs as primary;
 * a fenced instance is never started; a primary that fences on exit is not restarted after a crash.
 */
import { heldAfterExit, instanceHost, type Instance } from "../api/index.ts";
import { NotFoundError } from "../errors/index.ts";
import type { Credentials, DesiredReplicationRole, Engine, EngineReplication, ReplicationCredentials } from "../engines/index.ts";
import { readAccount } from "./accounts.ts";
import type { Store } from "../store/index.ts";

/** The instance may not run: the ha controller fenced it. */
export function isFenced(instance: Instance): boolean {
  return instance.spec.replication?.fenced === true;
}

/** Should the instance run: asked to, not fenced, and not held after an unexpected exit? */
export function mayRun(instance: Instance): boolean {
  return instance.spec.running && !isFenced(instance) && !heldAfterExit(instance);
}

/** A replicated instance whose role changed (promoted, rejoined) is probed at once, so its status follows. */
export function roleChanged(instance: Instance): boolean {
  return instance.spec.replication !== undefined && instance.status?.role !== instance.spec.role;
}

/** After an unexpected exit, the instance is held stopped instead of restarting (a primary with replicas to fail over to). */
export function fencesOnExit(instance: Instance): boolean {
  return instance.spec.replication?.fenceOnExit === true;
}

/**
 * Does the instance run under its component's primary lease (ADR 0029)? A primary that a replica could replace
 * (it fences on exit), of an engine whose own arbiters do not decide the primary (Redis Sentinel does).
 */
export function needsPrimaryLease(instance: Instance, engine: Engine): boolean {
  return instance.spec.role === "primary" && fencesOnExit(instance) && engine.replication !== undefined && engine.replication.arbiter === undefined;
}

/** The engine's replication capability when the instance takes part in replication. */
export function replicationOf(instance: Instance, engine: Engine): EngineReplication | undefined {
  return instance.spec.replication === undefined ? undefined : engine.replication;
}

/** Where a replica's upstream is, or why it cannot be used yet. */
export type UpstreamLookup = { kind: "none" } | { kind: "ready"; name: string; host: string; port: number } | { kind: "waiting"; message: string };

/**
 * The upstream of a replicated secondary, usable once it runs, is ready and answers as primary (a clone,
 * a rewind and streaming all need a primary); `none` for a primary or an instance outside replication.
 */
export async function lookUpUpstream(store: Store, instance: Instance): Promise<UpstreamLookup> {
  if (instance.spec.replication === undefined || instance.spec.role === "primary") return { kind: "none" };
  const name = instance.spec.replication.upstream;
  // A replica without an upstream must not start: it would start as a primary.
  if (name === undefined) return { kind: "waiting", message: "waiting for the ha controller to name the primary to stream from" };
  const upstream = await store.get<Instance>({ kind: "Instance", namespace: instance.metadata.namespace ?? "default", name });
  if (upstream === undefined) return { kind: "waiting", message: `waiting for primary ${name}, which does not exist` };
  return upstreamState(upstream);
}

function upstreamState(upstream: Instance): UpstreamLookup {
  const { status } = upstream;
  if (status?.ready === true && status.role === "primary") return { kind: "ready", name: upstream.metadata.name, host: instanceHost(upstream), port: upstream.spec.port };
  const role = status?.role === undefined ? "" : `, ${status.role}`;
  return { kind: "waiting", message: `waiting for primary ${upstream.metadata.name} to run as primary (it is ${status?.phase ?? "Pending"}${role})` };
}

/** The role to configure before a start. */
export function desiredRole(upstream: UpstreamLookup): DesiredReplicationRole {
  return upstream.kind === "ready" ? { role: "secondary", upstream: { host: upstream.host, port: upstream.port } } : { role: "primary" };
}

/** The administrator (first of `accounts`) and the replication account, from its Secret. */
export async function readReplicationCredentials(store: Store, instance: Instance, replication: EngineReplication, accounts: readonly Credentials[]): Promise<ReplicationCredentials> {
  const admin = accounts[0];
  if (admin === undefined) throw new NotFoundError("the administrator's account is missing; the cluster controller creates it");
  return { admin, replication: await readAccount(store, instance, replication.account.name, "the cluster controller creates it for replicated components") };
}
