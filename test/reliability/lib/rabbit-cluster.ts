/**
 * A 3-node RabbitMQ cluster on this machine for a test (scripts/rabbitmq.sh cluster-start): the
 * nodes' AMQP URLs, which node leads a quorum queue, and SIGKILL of one node.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SCRIPT = join(import.meta.dir, "../../../scripts/rabbitmq.sh");

async function script(...args: string[]): Promise<string> {
  const proc = Bun.spawn(["bash", SCRIPT, ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`scripts/rabbitmq.sh ${args.join(" ")} failed (${code}): ${err}`);
  return out;
}

export interface RabbitCluster {
  /** amqp URLs of n1, n2, n3, in that order */
  urls: string[];
  /** node name (name@localhost) of each node, same order */
  nodes: string[];
  /** index (0-2) of the node leading a quorum queue, asked of node `via` */
  leaderOf(queue: string, via: number): Promise<number>;
  /** SIGKILL of node `i` (0-2): the machine is lost */
  kill(i: number): Promise<void>;
  /** `rabbitmqctl list_queues` of `queue` as node `via` sees it: leader, members, online, state */
  queueStatus(queue: string, via: number): Promise<string>;
  /** the last lines of node `i`'s logs, for a failure's message */
  logTail(i: number): string;
  destroy(): Promise<void>;
}

export async function startRabbitCluster(): Promise<RabbitCluster> {
  const dir = mkdtempSync(join(tmpdir(), "item-sync-rmq-cluster-"));
  const ports: number[] = [];
  // below the ephemeral range, as the script's own ports (see scripts/rabbitmq.sh free_port)
  while (ports.length < 3) {
    const p = Number((await script("free-port")).trim());
    if (!ports.includes(p)) ports.push(p);
  }
  const nodeDir = (i: number) => join(dir, `n${i + 1}`);
  try {
    await script("cluster-start", dir, ...ports.map(String));
  } catch (err) {
    await script("cluster-stop", dir).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const nodes = [0, 1, 2].map((i) => readFileSync(join(nodeDir(i), "nodename"), "utf8").trim());
  /** `rabbitmqctl list_queues name COLUMNS…` on node `via`, as JSON text */
  const listQueues = (via: number, columns: string[]) =>
    script("ctl", nodeDir(via), "list_queues", "-q", "--formatter", "json", "name", ...columns);
  return {
    urls: ports.map((p) => `amqp://guest:guest@127.0.0.1:${p}`),
    nodes,
    async leaderOf(queue, via) {
      const out = await listQueues(via, ["leader"]);
      let rows: { name: string; leader: string }[];
      try {
        rows = JSON.parse(out);
      } catch (err) {
        throw new Error(`rabbitmqctl list_queues did not answer JSON (${String(err)}): ${out.slice(0, 300)}`);
      }
      const i = nodes.indexOf(rows.find((r) => r.name === queue)?.leader ?? "");
      if (i < 0) throw new Error(`no leader known for ${queue}: ${out}`);
      return i;
    },
    kill: (i) => script("kill-node", nodeDir(i)).then(() => {}),
    async queueStatus(queue, via) {
      const out = await listQueues(via, ["leader", "members", "online", "state", "messages"]).catch(
        (err: unknown) => String(err),
      );
      try {
        const rows = JSON.parse(out) as { name: string }[];
        return JSON.stringify(rows.find((r) => r.name === queue) ?? `no queue ${queue}`);
      } catch {
        return out.slice(0, 500);
      }
    },
    logTail(i) {
      const logDir = join(nodeDir(i), "log");
      if (!existsSync(logDir)) return "(no log)";
      return readdirSync(logDir)
        .filter((f) => f.endsWith(".log"))
        .map((f) => {
          const lines = readFileSync(join(logDir, f), "utf8").trim().split("\n").slice(-25);
          return `--- n${i + 1} ${f}\n${lines.join("\n")}`;
        })
        .join("\n");
    },
    async destroy() {
      await script("cluster-stop", dir).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
