/** Which archived WAL files a recovery from a base backup reads, in order, and where the archive has gaps (pure). */
import { compareWalFiles, isTimelineHistory, isWalSegment, segmentPosition } from "./wal-archive.ts";

/** Where a base backup's WAL starts: the segment its backup_label names. */
export interface WalStart {
  file: string;
}

/** The segments of one position (one per timeline that has it), and whether the position before is missing. */
export interface SegmentGroup {
  segment: bigint;
  names: string[];
  gapBefore: boolean;
}

/** Every timeline history file, then the segments from the start on, grouped by position in order. */
export interface WalPlan {
  history: string[];
  segments: SegmentGroup[];
}

/**
 * The files recovery from `start` may ask for: timeline history files (all: tiny, and needed to follow a failover),
 * and whole segments at or after the start position on the start timeline or a later one. `present` are the segments
 * the base backup holds itself (not staged, but they fill their positions). A position with no segment (the first
 * must be the start itself) marks a gap: recovery cannot pass it.
 */
export function chooseWalFiles(names: readonly string[], start: WalStart, present: readonly string[] = []): WalPlan {
  const from = segmentPosition(start.file);
  const history = names.filter(isTimelineHistory).sort(compareWalFiles);
  const groups = new Map<bigint, string[]>();
  // Segments the base backup brought in its own pg_wal (-X fetch: from its start to its end) fill positions too.
  for (const position of present.filter(isWalSegment).map(segmentPosition)) groups.set(position.segment, []);
  for (const name of names.filter(isWalSegment).sort(compareWalFiles)) {
    const position = segmentPosition(name);
    if (position.timeline < from.timeline || position.segment < from.segment) continue;
    groups.set(position.segment, [...(groups.get(position.segment) ?? []), name]);
  }
  let previous = from.segment - 1n;
  const segments = [...groups.entries()].filter(([segment]) => segment >= from.segment).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([segment, group]) => {
    const gapBefore = segment !== previous + 1n;
    previous = segment;
    return { segment, names: group, gapBefore };
  });
  return { history, segments };
}
