/** `item-sync migrate` and `item-sync jobs list|show|reset|stop`: database-only commands. */

import { executionDetailJson, executionJson } from "../batch/execution-json.ts";
import { heartbeatInfo } from "../batch/heartbeat.ts";
import { createJobRepository, HeartbeatFreshError } from "../batch/repository.ts";
import { JOB_STATUSES, type JobStatus } from "../batch/types.ts";
import { EXIT, type ParsedArgs, parseId, UsageError } from "../cli.ts";
import type { Config } from "../config/config.ts";
import { AppError } from "../lib/errors.ts";
import { type Logger, redact } from "../lib/log.ts";
import { executionWithHeartbeat, jobsTable } from "./cli-format.ts";
import { migrateDatabase, openDatabase } from "./compose.ts";

export async function migrateCommand(config: Config, logger: Logger): Promise<number> {
  const { applied, created } = await migrateDatabase(config);
  const where = config.databaseUrl.startsWith("sqlite:")
    ? ""
    : ` in schema ${config.imrtSchema} (IMRT_SCHEMA)`;
  process.stdout.write(
    applied.length || created.length
      ? [
          applied.length ? `applied ${applied.length} migration(s): ${applied.join(", ")}\n` : "",
          created.length
            ? `created ${created.length} IMRT item table(s)${where}: ${created.join(", ")}\n`
            : "",
        ].join("")
      : "database is up to date\n",
  );
  logger.debug("migrate done", { applied, created });
  return EXIT.ok;
}

export async function jobsCommand(config: Config, logger: Logger, args: ParsedArgs): Promise<number> {
  const [sub = "list", idArg] = args.positional;
  const db = await openDatabase(config, null, logger, false);
  try {
    const repository = createJobRepository(db, { leaseMs: config.jobLeaseMs });
    const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    try {
      switch (sub) {
        case "list": {
          const status = args.flags.status;
          if (status !== undefined && !JOB_STATUSES.includes(status as JobStatus)) {
            throw new UsageError(`--status must be one of ${JOB_STATUSES.join(", ")}`);
          }
          const limit = args.flags.limit === undefined ? 20 : parseId(String(args.flags.limit), "--limit");
          if (limit > 100) throw new UsageError("--limit must be at most 100");
          const list = await repository.list({ status: status as JobStatus | undefined, limit });
          const table =
            args.flags.table === true || (args.flags.json !== true && process.stdout.isTTY === true);
          if (table) process.stdout.write(jobsTable(list, config.jobLeaseMs));
          else
            print({ jobs: list.map((e) => executionWithHeartbeat(executionJson(e), e, config.jobLeaseMs)) });
          return EXIT.ok;
        }
        case "show": {
          const id = parseId(idArg, "ID");
          const execution = await repository.get(id);
          if (!execution) throw new AppError("NOT_FOUND", 404, `job execution ${id} does not exist`);
          const detail = executionDetailJson({ ...execution, step: await repository.getStep(id) });
          print(executionWithHeartbeat(detail, execution, config.jobLeaseMs));
          return EXIT.ok;
        }
        case "reset":
          print(
            executionJson(
              await repository.reset(parseId(idArg, "ID"), {
                force: args.flags.force === true,
                leaseMs: config.jobLeaseMs,
              }),
            ),
          );
          return EXIT.ok;
        case "stop": {
          const stopping = await repository.requestStop(parseId(idArg, "ID"));
          print(executionJson(stopping));
          const { presumedDeadAt } = heartbeatInfo(stopping.lastUpdated, config.jobLeaseMs);
          process.stderr.write(
            `item-sync: job execution ${stopping.id} is ${stopping.status}: the process running it stops it at its next checkpoint (STOPPED, restartable). ` +
              `If that process is gone, no heartbeat comes and it is marked FAILED (restartable) once presumed dead at ${presumedDeadAt}, by the sweep of a running serve or by the next launch.\n`,
          );
          return EXIT.ok;
        }
        default:
          throw new UsageError(`unknown jobs subcommand: ${sub} (list, show, reset, stop)`);
      }
    } catch (err) {
      if (err instanceof HeartbeatFreshError) {
        const { executionId: id, heartbeat: h } = err;
        process.stderr.write(
          `item-sync: job execution ${id} is alive: its last heartbeat is ${h.ageSeconds} s old, and it is presumed dead at ${h.presumedDeadAt} (in ${h.presumedDeadInSeconds} s) if no other comes.\n` +
            `  Stop it at its next checkpoint:  item-sync jobs stop ${id}\n` +
            `  Abandon it anyway:               item-sync jobs reset ${id} --force\n`,
        );
        return EXIT.failed;
      }
      if (err instanceof AppError) {
        process.stderr.write(redact(`item-sync: ${err.message}\n`));
        return EXIT.failed;
      }
      throw err;
    }
  } finally {
    await db.close();
  }
}
