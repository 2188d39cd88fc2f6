/**
 * Runs the compiled binary (dist/item-sync, built by the test command) as a real process, and
 * gives tests what they need around it: a free port, readiness, logs, kill with any signal,
 * unique broker names, and an independent AMQP "tap" that counts what was published.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Connection, type Consumer } from "rabbitmq-client";
import type { GitlabSim } from "../sim/gitlab.ts";

export const BINARY = join(import.meta.dir, "../../dist/item-sync");
export const API_TOKEN = "e2e-token-0123456789abcdef";
/** serve refuses to start without a webhook secret of at least 24 characters. */
export const TEST_WEBHOOK_SECRET = "test-webhook-secret-0123456789";

export function requireBinary(): string {
  if (!existsSync(BINARY))
    throw new Error(`${BINARY} is missing: run \`bun run build\` (the test command does)`);
  return BINARY;
}

export function amqpUrl(): string {
  const url = process.env.TEST_AMQP_URL;
  if (!url)
    throw new Error("TEST_AMQP_URL is not set: run the tests with `bun run test` (it starts RabbitMQ)");
  return url;
}

export function freePort(): number {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = server.port as number;
  server.stop(true);
  return port;
}

/** Exchange and queue names no other test uses. */
export function brokerNames(prefix = "t") {
  const id = `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  return {
    AMQP_EXCHANGE: `${id}.items`,
    AMQP_MONITOR_QUEUE: `${id}-monitor`,
    AMQP_UPDATE_QUEUE: `${id}-update`,
    AMQP_DELETE_QUEUE: `${id}-delete`,
  };
}

export interface RunningProcess {
  proc: ReturnType<typeof Bun.spawn>;
  url: string;
  logs(): string;
  /** Resolves with the exit code. */
  exited: Promise<number>;
  kill(signal?: NodeJS.Signals): Promise<number>;
}

/** Starts `item-sync <args>`; for serve, waits until /health/live answers. */
export async function startBinary(
  args: string[],
  env: Record<string, string>,
  opts: { waitForHttp?: boolean; cwd?: string } = {},
): Promise<RunningProcess> {
  const port = env.PORT ?? String(freePort());
  const chunks: string[] = [];
  const proc = Bun.spawn([requireBinary(), ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      HOST: "127.0.0.1",
      PORT: port,
      SYNC_CRON: "off",
      LOG_LEVEL: "info",
      WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      ...env,
    },
    cwd: opts.cwd,
    stdout: "pipe",
    stderr: "pipe",
  });
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      chunks.push(decoder.decode(value, { stream: true }));
    }
  };
  const drained = Promise.all([
    collect(proc.stdout as ReadableStream<Uint8Array>),
    collect(proc.stderr as ReadableStream<Uint8Array>),
  ]);
  const exited = proc.exited.then(async (code) => {
    await drained;
    return code;
  });
  const url = `http://127.0.0.1:${port}`;
  const running: RunningProcess = {
    proc,
    url,
    logs: () => chunks.join(""),
    exited,
    async kill(signal = "SIGTERM") {
      proc.kill(signal);
      return exited;
    },
  };
  if (opts.waitForHttp ?? args[0] === "serve") {
    const deadline = Date.now() + 30_000;
    // /health/live answers from the first moment of start-up (a start-up probe holds the port);
    // readiness here is the real server answering, whatever the log level and the database
    for (;;) {
      if (proc.exitCode !== null)
        throw new Error(`item-sync ${args.join(" ")} exited ${proc.exitCode}:\n${running.logs()}`);
      try {
        if (await realServerAnswers(url, args[0])) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`item-sync did not start in 30 s:\n${running.logs()}`);
      await Bun.sleep(50);
    }
  }
  return running;
}

/**
 * Whether the real server (not the start-up probe) holds the port: serve's OpenAPI document,
 * which the probe answers 503 and which needs no database; a worker's metrics, which name
 * item-sync only once its real server answers (the probe's are empty).
 */
async function realServerAnswers(url: string, command: string | undefined): Promise<boolean> {
  if (command === "serve") return (await fetch(`${url}/openapi/json`)).ok;
  const metrics = await fetch(`${url}/metrics`);
  return metrics.ok && (await metrics.text()).includes("item_sync_");
}

export function api(baseUrl: string, token = API_TOKEN) {
  return async (method: string, path: string) => {
    const res = await fetch(`${baseUrl}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body: body as Record<string, unknown> & { error?: { code: string } } };
  };
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(100);
  }
}

export const TERMINAL_STATUSES = ["COMPLETED", "FAILED", "STOPPED", "ABANDONED"];

export type ExecutionBody = Record<string, unknown> & {
  counts: Record<string, number>;
  step?: { commitCount: number; context: Record<string, unknown> };
};

/**
 * Polls GET /jobs/:id until the execution reaches one of `statuses` (default: any terminal one).
 * With `proc`, a serve process that exits meanwhile fails the wait with its log.
 */
export function waitForExecution(
  call: ReturnType<typeof api>,
  id: number,
  opts: { statuses?: string[]; proc?: RunningProcess; timeoutMs?: number } = {},
): Promise<ExecutionBody> {
  const statuses = opts.statuses ?? TERMINAL_STATUSES;
  return waitFor(
    `execution ${id} in ${statuses.join("/")}`,
    async () => {
      if (opts.proc && opts.proc.proc.exitCode !== null) {
        throw new Error(`serve exited ${opts.proc.proc.exitCode}:\n${opts.proc.logs().slice(-3000)}`);
      }
      const r = (await call("GET", `/jobs/${id}`)).body as ExecutionBody;
      return statuses.includes(r.status as string) && r;
    },
    opts.timeoutMs ?? 90_000,
  );
}

/**
 * Waits until GET /items/:id shows every project of `sim` that has an item.json at its head
 * commit: the ingest workers have caught up with the simulated GitLab.
 */
export function waitForItemsAtHead(call: ReturnType<typeof api>, sim: GitlabSim, timeoutMs = 90_000) {
  return waitFor(
    "every item ingested at its head",
    async () => {
      for (const p of sim.state.projects) {
        if (!sim.state.itemOf(p.id)) continue;
        const { body } = await call("GET", `/items/${p.id}`);
        if (body.currentCommitHash !== sim.state.commitsOf(p)[0]?.id) return false;
      }
      return true;
    },
    timeoutMs,
  );
}

/**
 * An independent AMQP client: declares the exchange (as the service does) and exclusive queues
 * bound with item.monitor / item.update / item.delete, and counts every message by project id.
 */
export async function startTap(exchange: string, opts: { url?: string; durable?: boolean } = {}) {
  const connection = new Connection({ url: opts.url ?? amqpUrl(), retryLow: 100, retryHigh: 1000 });
  connection.on("error", () => {});
  // Durable tap queues keep their messages across a broker restart (for broker fault tests).
  const tapId = `${exchange}.tap.${Math.random().toString(36).slice(2, 8)}`;
  const counts = {
    "item.monitor": new Map<number, number>(),
    "item.update": new Map<number, number>(),
    "item.delete": new Map<number, number>(),
  };
  const messages: {
    routingKey: string;
    body: Record<string, unknown>;
    properties: Record<string, unknown>;
    /** when the tap got it (epoch ms), for "published after …" checks */
    receivedAt: number;
  }[] = [];
  await connection.exchangeDeclare({ exchange, type: "topic", durable: true });
  const consumers: Consumer[] = [];
  for (const key of Object.keys(counts) as (keyof typeof counts)[]) {
    const consumer = connection.createConsumer(
      {
        queue: opts.durable ? `${tapId}.${key}` : undefined,
        queueOptions: opts.durable ? { durable: true } : { exclusive: true, autoDelete: true },
        queueBindings: [{ exchange, routingKey: key }],
        qos: { prefetchCount: 500 },
      },
      async (msg) => {
        const body = JSON.parse(
          Buffer.isBuffer(msg.body) ? msg.body.toString("utf8") : JSON.stringify(msg.body),
        ) as Record<string, unknown>;
        const projectId = Number(body.projectId);
        counts[key].set(projectId, (counts[key].get(projectId) ?? 0) + 1);
        messages.push({
          receivedAt: Date.now(),
          routingKey: msg.routingKey,
          body,
          properties: {
            contentType: msg.contentType,
            type: msg.type,
            appId: msg.appId,
            messageId: msg.messageId,
            durable: msg.durable,
          },
        });
      },
    );
    // a broker restart surfaces as an 'error' event; the consumer reconnects by itself
    consumer.on("error", () => {});
    consumers.push(consumer);
  }
  // wait until the tap queues are bound
  await waitFor("tap consumers ready", async () => consumers.every((c) => c.queue !== ""), 10_000);
  const BARRIER_PROJECT = -1;
  return {
    counts,
    messages,
    /** Messages of a routing key, the barriers left out. */
    total: (key: keyof typeof counts) =>
      [...counts[key].entries()].reduce((a, [id, n]) => a + (id === BARRIER_PROJECT ? 0 : n), 0),
    /**
     * A positive signal for "nothing more was published": a marker published (confirmed) to the
     * exchange with `key` now queues behind every message already routed to the tap, so once the
     * tap has it, every message published and confirmed before this call has been counted.
     */
    async barrier(key: keyof typeof counts) {
      const before = counts[key].get(BARRIER_PROJECT) ?? 0;
      const publisher = connection.createPublisher({ confirm: true });
      try {
        await publisher.send(
          { exchange, routingKey: key },
          { type: "tap-barrier", projectId: BARRIER_PROJECT },
        );
      } finally {
        await publisher.close();
      }
      await waitFor(
        "the tap's barrier",
        async () => (counts[key].get(BARRIER_PROJECT) ?? 0) > before,
        10_000,
      );
    },
    async close() {
      await Promise.all(consumers.map((c) => c.close()));
      if (opts.durable) {
        for (const key of Object.keys(counts))
          await connection.queueDelete({ queue: `${tapId}.${key}` }).catch(() => {});
      }
      await connection.close();
    },
  };
}

/** Deletes a test's exchange, queues and dead queues. */
export async function deleteBrokerNames(names: ReturnType<typeof brokerNames>, url = amqpUrl()) {
  const connection = new Connection({ url });
  try {
    for (const q of [names.AMQP_MONITOR_QUEUE, names.AMQP_UPDATE_QUEUE, names.AMQP_DELETE_QUEUE]) {
      await connection.queueDelete({ queue: q }).catch(() => {});
      await connection.queueDelete({ queue: `${q}.dead` }).catch(() => {});
    }
    await connection.exchangeDelete({ exchange: names.AMQP_EXCHANGE }).catch(() => {});
    await connection.exchangeDelete({ exchange: `${names.AMQP_EXCHANGE}.dlx` }).catch(() => {});
  } finally {
    await connection.close();
  }
}

/** Where the tests' GitLab hooks point (the simulator only compares it; nothing listens there). */
export const TEST_WEBHOOK_URL = "https://item-sync.test/webhooks/gitlab";

/**
 * The environment of a `serve` or `worker` talking to this simulator and to the test broker under
 * `names` (brokerNames), with the test token: add DATABASE_URL and whatever the test varies in
 * `extra`, which wins over these.
 */
export function serviceEnv(
  sim: { url: string; token: string; group: string },
  names: Record<string, string>,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    GITLAB_URL: sim.url,
    GITLAB_TOKEN: sim.token,
    GITLAB_GROUP: sim.group,
    WEBHOOK_URL: TEST_WEBHOOK_URL,
    AMQP_URL: amqpUrl(),
    API_TOKENS: API_TOKEN,
    ...names,
    ...extra,
  };
}
