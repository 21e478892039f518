/**
 * Redis Sentinel as the engine's arbiter: the `redis-sentinel` component's instances watch the `redis`
 * component, and a majority of them decides who is master. Holdfast configures and runs them, asks them
 * before each start of a Redis instance, and (each Sentinel through the node agent that runs it) reports what each
 * names, carries out switchovers and makes them forget removed replicas.
 */
import { createHash } from "node:crypto";
import { InvalidError } from "../../errors/index.ts";
import { LOOPBACK } from "../address.ts";
import type { ArbiterGroup, EngineArbiter, GroupMember, InstanceContext, InstanceLayout } from "../types.ts";
import { REDIS_SENTINEL_ACCOUNT, type RedisReplicationAccounts } from "./replication-accounts.ts";
import { configureRedisReplica } from "./replica-setup.ts";
import { DEFAULT_SENTINEL_TIMINGS, sentinelQuorum, type SentinelSettings } from "./sentinel-config.ts";
import { forgetDepartedReplicas } from "./sentinel-forget.ts";
import type { RedisTarget } from "./resp.ts";
import { observeSentinel } from "./sentinel-observe.ts";
import { configureSentinel, sentinelStartCommand } from "./sentinel-setup.ts";
import { decideRedisStartRole } from "./start-role.ts";
import { switchoverRedis } from "./switchover.ts";

const MAX_MASTER_NAME = 64;

/** The name the Sentinels monitor the group under: the group's name, shortened with a digest past 64 characters (pure). */
export function sentinelMasterName(groupName: string): string {
  const safe = groupName.replace(/[^A-Za-z0-9._-]/g, "_");
  if (safe.length > 0 && safe.length <= MAX_MASTER_NAME) return safe;
  const digest = createHash("sha256").update(groupName).digest("hex").slice(0, 16);
  return `${safe.slice(0, MAX_MASTER_NAME - digest.length - 1)}-${digest}`;
}

/** The port of member `name`, or InvalidError. */
function portOf(group: ArbiterGroup, name: string): number {
  const member = group.members.find((m) => m.name === name);
  if (member === undefined) throw new InvalidError(`${name} is not an instance of ${group.name}: name one of ${group.members.map((m) => m.name).join(", ")}`, { causes: [{ field: "candidateName", message: "is not an instance of the component" }] });
  return member.port;
}

function nameOf(group: ArbiterGroup, port: number | undefined): string | undefined {
  return group.members.find((m) => m.port === port)?.name;
}

/** Where `member` of `group` is reached: its address, over TLS checked against the group's CA when it has one. */
function targetOf(group: Pick<ArbiterGroup, "trust">, member: GroupMember): RedisTarget {
  return { host: member.host, port: member.port, caFile: group.trust?.caFile };
}

/** The host of every member's and Sentinel's port that is not on 127.0.0.1 (pure). */
function hostsOf(group: ArbiterGroup): Map<number, string> {
  return new Map([...group.members, ...group.arbiters].filter((m) => m.host !== LOOPBACK).map((m) => [m.port, m.host]));
}

/** What every Sentinel of the group is told (pure). */
export function sentinelSettingsFor(group: ArbiterGroup): SentinelSettings {
  const instancePorts = group.members.map((m) => m.port);
  const initial = group.members.find((m) => m.name === group.lastKnownPrimary)?.port ?? instancePorts[0] ?? 0;
  return {
    ...DEFAULT_SENTINEL_TIMINGS,
    masterName: sentinelMasterName(group.name),
    initialMasterPort: initial,
    instancePorts,
    sentinelPorts: group.arbiters.map((a) => a.port),
    quorum: sentinelQuorum(group.arbiters.length),
    hosts: hostsOf(group),
  };
}

/** The Redis accounts of the group: the members' administrator and replication account, Sentinel's account. */
function memberAccounts(group: ArbiterGroup): RedisReplicationAccounts {
  const { admin, replication, arbiter } = group.credentials;
  return { admin, replication, sentinel: arbiter };
}

/** How Holdfast asks the group's Sentinels. */
function sentinelsOf(group: ArbiterGroup): { ports: RedisTarget[]; masterName: string; admin: ArbiterGroup["credentials"]["admin"] } {
  return { ports: group.arbiters.map((arbiter) => targetOf(group, arbiter)), masterName: sentinelMasterName(group.name), admin: group.credentials.arbiterAdmin };
}

/** The Sentinel arbiter of the Redis engine. */
export function createSentinelArbiter(): EngineArbiter {
  return {
    account: REDIS_SENTINEL_ACCOUNT,
    // A stopped master is seen down after down-after-milliseconds; one failover attempt is bounded by failover-timeout.
    failoverWindowMs: DEFAULT_SENTINEL_TIMINGS.downAfterMs + DEFAULT_SENTINEL_TIMINGS.failoverTimeoutMs,
    async configureArbiter(context: InstanceLayout, group, host) {
      // The Sentinel's own administrator is the arbiter component's; it logs in to the instances as the Sentinel account.
      await configureSentinel(context, sentinelSettingsFor(group), { ...memberAccounts(group), admin: group.credentials.arbiterAdmin }, host);
    },
    arbiterCommand: (context: InstanceContext) => sentinelStartCommand(context, context.version),
    async configureMember(context, group, host) {
      const lastKnown = group.members.find((m) => m.name === group.lastKnownPrimary)?.port;
      const decided = await decideRedisStartRole(context.port, sentinelsOf(group), lastKnown);
      const masterHost = group.members.find((m) => m.port === decided.masterPort)?.host ?? LOOPBACK;
      await configureRedisReplica(context, memberAccounts(group), { masterPort: decided.masterPort, masterHost }, host);
      return decided.masterPort === undefined ? { role: "primary" } : { role: "secondary", upstream: { host: masterHost, port: decided.masterPort } };
    },
    async observe(self, group) {
      return observeSentinel(targetOf(group, self), group.credentials.arbiterAdmin, sentinelMasterName(group.name), group.members);
    },
    async forgetDeparted(self, group) {
      const masterName = sentinelMasterName(group.name);
      const forgot = await forgetDepartedReplicas(targetOf(group, self), group.credentials.arbiterAdmin, masterName, group.members);
      if (forgot === undefined) return undefined;
      return `the Sentinel ${self.name} forgot the removed replica(s) ${forgot.join(", ")} (SENTINEL RESET ${masterName}); it rediscovers the others from the master`;
    },
    async switchover(self, group, move, onPromoting) {
      portOf(group, move.from);
      // Only the Sentinel asked (this node's) is consulted; the ha controller reads the others' reports.
      const request = {
        masterName: sentinelMasterName(group.name), sentinelPorts: [self.port], instancePorts: group.members.map((m) => m.port), candidatePort: portOf(group, move.candidate),
        hosts: hostsOf(group), caFile: group.trust?.caFile, sentinelAdmin: group.credentials.arbiterAdmin, ...(onPromoting === undefined ? {} : { onPromoting }),
      };
      const result = await switchoverRedis(request, group.credentials.admin);
      return { primary: nameOf(group, result.newMasterPort) ?? move.candidate, writesPausedMs: result.writesPausedMs };
    },
  };
}
