/**
 * `item-sync dead list [--queue Q]`, `item-sync dead replay [--queue Q] [--id MESSAGE_ID]
 * [--include-malformed]` and `item-sync dead purge [--queue Q] [--malformed]`: the dead queues
 * on the configured broker (AMQP_URL), for operators.
 */
import { EXIT, type ParsedArgs, UsageError } from "../cli.ts";
import type { Config } from "../config/config.ts";
import type { Logger } from "../lib/log.ts";
import { createBroker } from "../queue/broker.ts";
import {
  chooseQueues,
  type DeadLetter,
  listDeadLetters,
  purgeDeadLetters,
  replayDeadLetters,
} from "../queue/dead-letters.ts";
import { deadQueueName } from "../queue/topology.ts";

function table(rows: DeadLetter[]): string {
  if (rows.length === 0) return "no dead letters\n";
  const header = ["QUEUE", "MESSAGE ID", "PROJECT", "KIND", "ATTEMPTS", "DEAD-LETTERED AT", "REASON"];
  const cells = rows.map((d) => [
    d.queue,
    d.messageId ?? "-",
    d.projectId === null ? "-" : String(d.projectId),
    d.kind,
    d.attempts === null ? "-" : String(d.attempts),
    d.deadLetteredAt ?? "-",
    d.reason.length > 100 ? `${d.reason.slice(0, 99)}…` : d.reason,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] as string).length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join("  ")
      .trimEnd();
  return `${[line(header), ...cells.map(line)].join("\n")}\n`;
}

const SUBCOMMANDS = ["list", "replay", "purge"];
/** flags each subcommand takes (beyond --queue) */
const SUB_FLAGS: Record<string, string[]> = {
  list: ["table", "json"],
  replay: ["id", "include-malformed"],
  purge: ["malformed"],
};

export async function deadCommand(config: Config, logger: Logger, args: ParsedArgs): Promise<number> {
  const [sub = "list"] = args.positional;
  if (!SUBCOMMANDS.includes(sub))
    throw new UsageError(`unknown dead subcommand: ${sub} (${SUBCOMMANDS.join(", ")})`);
  for (const flag of Object.keys(args.flags)) {
    if (flag !== "queue" && !SUB_FLAGS[sub]?.includes(flag)) {
      const owner = SUBCOMMANDS.find((s) => SUB_FLAGS[s]?.includes(flag));
      throw new UsageError(`--${flag} applies to dead ${owner ?? "(no subcommand)"} only`);
    }
  }
  const queueFlag = typeof args.flags.queue === "string" ? args.flags.queue : undefined;
  const idFlag = typeof args.flags.id === "string" ? args.flags.id : undefined;
  const broker = createBroker(config.amqp, logger, { connectionName: `item-sync dead ${sub}`, quiet: true });
  try {
    await broker.start();
    let queues: string[];
    try {
      queues = chooseQueues(broker, queueFlag);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (sub === "list") {
      const { deadLetters, counts } = await listDeadLetters(broker, queues);
      const asTable =
        args.flags.table === true || (args.flags.json !== true && process.stdout.isTTY === true);
      if (asTable) {
        process.stdout.write(table(deadLetters));
        const shown = deadLetters.length;
        const total = Object.values(counts).reduce((a, b) => a + b, 0);
        if (total > shown) process.stdout.write(`(${shown} of ${total} shown)\n`);
      } else {
        process.stdout.write(`${JSON.stringify({ counts, deadLetters }, null, 2)}\n`);
      }
      return EXIT.ok;
    }
    if (sub === "purge") {
      const malformedOnly = args.flags.malformed === true;
      const removed = await purgeDeadLetters(broker, queues, { unreplayableOnly: malformedOnly });
      for (const [queue, n] of Object.entries(removed)) {
        process.stdout.write(
          `purged ${n} ${malformedOnly ? "malformed or quarantined " : ""}message(s) from ${deadQueueName(queue)}\n`,
        );
      }
      return EXIT.ok;
    }
    const { replayed, left } = await replayDeadLetters(broker, queues, {
      id: idFlag,
      includeUnreplayable: args.flags["include-malformed"] === true,
    });
    for (const d of replayed) {
      process.stdout.write(`replayed ${d.messageId ?? "(no message id)"} to ${d.queue} (was: ${d.reason})\n`);
    }
    for (const d of left) {
      process.stdout.write(
        `left ${d.messageId ?? "(no message id)"} in ${deadQueueName(d.queue)}: ${d.kind} (${d.reason})\n`,
      );
    }
    if (left.length > 0) {
      const malformed = left.filter((d) => d.kind === "malformed").length;
      process.stderr.write(
        `item-sync: left ${left.length} message(s) that a replay cannot make succeed (${malformed} malformed, ${left.length - malformed} quarantined): ` +
          "look at them with `item-sync dead list`, remove them with `item-sync dead purge --malformed`, or replay them anyway with --include-malformed\n",
      );
    }
    if (idFlag !== undefined && replayed.length === 0) {
      if (left.length === 0)
        process.stderr.write(
          `item-sync: no dead letter with message id ${idFlag} in ${queues.map((q) => deadQueueName(q)).join(", ")}\n`,
        );
      return EXIT.failed;
    }
    process.stderr.write(
      `item-sync: ${replayed.length} message(s) put back on their work queue (the dead letters present when the replay started)\n`,
    );
    return EXIT.ok;
  } finally {
    await broker.close().catch(() => {});
  }
}
