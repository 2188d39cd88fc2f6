/** `item-sync dead list [--queue Q]` and `item-sync dead replay [--queue Q] [--id MESSAGE_ID]`. */
import { EXIT, type ParsedArgs, UsageError } from "../cli.ts";
import type { Config } from "../config/config.ts";
import type { Logger } from "../lib/log.ts";
import { createBroker } from "../queue/broker.ts";
import { chooseQueues, type DeadLetter, listDeadLetters, replayDeadLetters } from "../queue/dead-letters.ts";

function table(rows: DeadLetter[]): string {
  if (rows.length === 0) return "no dead letters\n";
  const header = ["QUEUE", "MESSAGE ID", "PROJECT", "ATTEMPTS", "DEAD-LETTERED AT", "REASON"];
  const cells = rows.map((d) => [
    d.queue,
    d.messageId ?? "-",
    d.projectId === null ? "-" : String(d.projectId),
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

export async function deadCommand(config: Config, logger: Logger, args: ParsedArgs): Promise<number> {
  const [sub = "list"] = args.positional;
  if (sub !== "list" && sub !== "replay")
    throw new UsageError(`unknown dead subcommand: ${sub} (list, replay)`);
  const queueFlag = typeof args.flags.queue === "string" ? args.flags.queue : undefined;
  const idFlag = typeof args.flags.id === "string" ? args.flags.id : undefined;
  if (sub === "list" && idFlag !== undefined) throw new UsageError("--id applies to dead replay only");
  const broker = createBroker(config.amqp, logger, { connectionName: `item-sync dead ${sub}` });
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
    const replayed = await replayDeadLetters(broker, queues, { id: idFlag });
    for (const d of replayed) {
      process.stdout.write(`replayed ${d.messageId ?? "(no message id)"} to ${d.queue} (was: ${d.reason})\n`);
    }
    if (idFlag !== undefined && replayed.length === 0) {
      process.stderr.write(
        `item-sync: no dead letter with message id ${idFlag} in ${queues.map((q) => `${q}.dead`).join(", ")}\n`,
      );
      return EXIT.failed;
    }
    process.stderr.write(`item-sync: ${replayed.length} message(s) put back on their work queue\n`);
    return EXIT.ok;
  } finally {
    await broker.close().catch(() => {});
  }
}
