/** What the CLI prints for people: the jobs table, heartbeat notes, and sync progress lines. */

import type { executionJson } from "../batch/execution-json.ts";
import { heartbeatInfo } from "../batch/heartbeat.ts";
import type { ProgressSnapshot } from "../batch/progress.ts";
import { isRunning, type JobExecution } from "../batch/types.ts";

/** The execution JSON plus, while it runs, its heartbeat's age and when it will be presumed dead. */
export function executionWithHeartbeat<T extends ReturnType<typeof executionJson>>(
  json: T,
  e: JobExecution,
  leaseMs: number,
  now = new Date(),
) {
  return isRunning(e.status) ? { ...json, heartbeat: heartbeatInfo(e.lastUpdated, leaseMs, now) } : json;
}

const hms = (d: Date | null) => (d ? d.toISOString().replace("T", " ").slice(0, 19) : "-");

function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** A fixed-width table of executions, newest first, for a terminal. */
export function jobsTable(executions: JobExecution[], leaseMs: number, now = new Date()): string {
  if (executions.length === 0) return "no job executions\n";
  const rows = executions.map((e) => {
    const c = e.counts;
    let note = e.exitMessage;
    if (isRunning(e.status)) {
      const h = heartbeatInfo(e.lastUpdated, leaseMs, now);
      note =
        h.presumedDeadInSeconds > 0
          ? `heartbeat ${h.ageSeconds} s ago, presumed dead in ${h.presumedDeadInSeconds} s without one`
          : `no heartbeat for ${h.ageSeconds} s: presumed dead`;
    }
    return [
      String(e.id),
      e.status,
      e.trigger,
      hms(e.startTime ?? e.createTime),
      e.endTime ? hms(e.endTime) : "-",
      String(c.read),
      String(c.monitorPublished + c.updatePublished + c.deletePublished),
      String(c.skipped),
      e.restartOf ? String(e.restartOf) : "-",
      note.length > 70 ? `${note.slice(0, 69)}…` : note,
    ];
  });
  const header = [
    "ID",
    "STATUS",
    "TRIGGER",
    "STARTED (UTC)",
    "ENDED (UTC)",
    "READ",
    "PUBLISHED",
    "SKIPPED",
    "RESUMES",
    "NOTE",
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] as number)))
      .join("  ")
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}

/** One progress line of `sync --wait`: counts, total and percentage, rate, elapsed and ETA. */
export function progressLine(id: number, p: ProgressSnapshot): string {
  // a resumed execution counts what the executions it resumes handled too
  const handled = p.handled + (p.handledBefore ?? 0);
  const done =
    p.total !== undefined
      ? `${handled} of ${p.total} projects handled (${p.total > 0 ? Math.min(100, Math.floor((100 * handled) / p.total)) : 100}%)`
      : `${p.handled} projects handled (total not known)`;
  const eta = p.etaSeconds !== undefined ? `, ETA ${duration(p.etaSeconds)}` : "";
  return `item-sync: execution ${id}: ${done}, read ${p.read}, hooks checked ${p.hooksChecked}, published ${p.published}, skipped ${p.skipped}, ${p.handledPerSecond}/s, elapsed ${duration(p.elapsedSeconds)}${eta}\n`;
}
