/**
 * Command-line parsing: `item-sync <command> [args] [--flags]`, with usage text, the version and
 * the exit codes every command answers with.
 */
import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;

/** 0 done, 1 the work failed (FAILED/STOPPED, unhealthy), 2 usage or configuration, 3 a sync already runs. */
export const EXIT = { ok: 0, failed: 1, usage: 2, alreadyRunning: 3 } as const;

export const USAGE = `item-sync — keeps the imrt item database in step with the GitLab item group

Usage:
  item-sync serve                      HTTP API + cron schedule + ingest workers (INGEST_ENABLED)
  item-sync worker                     ingest workers only
  item-sync sync [--wait] [--fresh] [--allow-mass-delete] [--mode incremental|full]
                                       run a sync in this process (resuming a FAILED/STOPPED one
                                       unless --fresh); --wait prints progress every second;
                                       --mode chooses the scan (default SYNC_MODE, auto).
                                       Exit 0 COMPLETED, 1 FAILED/STOPPED, 3 one already running
  item-sync sync --project ID          sync one project now (no execution): monitor-item when our
                                       hook is missing, then update-item; exit 1 when GitLab does
                                       not place the project in the group
  item-sync migrate                    apply database migrations and exit
  item-sync health [--url URL]         probe GET /health/live of a running serve/worker (default
                                       http://127.0.0.1:$PORT); exit 0 healthy, 1 not
  item-sync jobs [list [--status S] [--limit N] [--table|--json]]
                                       a table on a terminal, JSON otherwise
  item-sync jobs show ID
  item-sync jobs reset ID [--force]
  item-sync jobs stop ID
  item-sync dead list [--queue Q] [--table|--json]
                                       dead-lettered messages and why (they stay there)
  item-sync dead replay [--queue Q] [--id MESSAGE_ID] [--include-malformed]
                                       put the dead letters present now back on their work
                                       queue (malformed and quarantined ones only if asked)
  item-sync dead purge [--queue Q] [--malformed]
                                       remove dead letters (only malformed and quarantined)
  item-sync --help | --version

Configuration comes from the environment (DATABASE_URL, GITLAB_URL, GITLAB_TOKEN, GITLAB_GROUP,
WEBHOOK_URL, AMQP_URL, API_TOKENS, …). Every variable with its default and meaning, the HTTP API
and the messages: docs/reference.md in the item-sync repository.
`;

export interface ParsedArgs {
  command: string;
  positional: string[];
  flags: Record<string, string | true>;
}

const KNOWN_FLAGS: Record<string, string[]> = {
  serve: [],
  worker: [],
  sync: ["wait", "fresh", "allow-mass-delete", "mode", "project"],
  migrate: [],
  health: ["url"],
  jobs: ["status", "limit", "force", "table", "json"],
  dead: ["queue", "id", "table", "json", "include-malformed", "malformed"],
};
const VALUE_FLAGS = new Set(["status", "limit", "url", "mode", "queue", "id", "project"]);

export class UsageError extends Error {}

export function parseArgs(argv: string[]): ParsedArgs {
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    return { command: "help", positional: [], flags: {} };
  }
  if (first === "--version" || first === "-v") return { command: "version", positional: [], flags: {} };
  const allowed = KNOWN_FLAGS[first];
  if (!allowed) throw new UsageError(`unknown command: ${first}`);
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (arg === "--help" || arg === "-h") return { command: "help", positional: [], flags: {} };
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split("=", 2) as [string, string | undefined];
    if (!allowed.includes(name)) throw new UsageError(`unknown option for ${first}: --${name}`);
    if (VALUE_FLAGS.has(name)) {
      const value = inline ?? rest[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags[name] = value;
    } else {
      flags[name] = true;
    }
  }
  const mode = flags.mode;
  if (mode !== undefined && mode !== "incremental" && mode !== "full") {
    throw new UsageError(`--mode must be incremental or full, got "${String(mode)}"`);
  }
  if (flags.project !== undefined) {
    parseId(String(flags.project), "--project");
    const others = ["wait", "fresh", "allow-mass-delete", "mode"].filter((f) => flags[f] !== undefined);
    if (others.length > 0) {
      throw new UsageError(`--project syncs one project without an execution: drop --${others.join(", --")}`);
    }
  }
  return { command: first, positional, flags };
}

/** A positive whole number from the command line, or a UsageError naming what it is. */
export function parseId(value: string | undefined, what: string): number {
  if (value === undefined || !/^\d{1,15}$/.test(value) || Number(value) < 1) {
    throw new UsageError(
      `${what} must be a positive whole number${value === undefined ? "" : `, got "${value}"`}`,
    );
  }
  return Number(value);
}
