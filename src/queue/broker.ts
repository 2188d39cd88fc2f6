/**
 * The one RabbitMQ connection of a process. rabbitmq-client reconnects on its own; this module
 * adds what the rest of the service needs around it: the topology declared at start, the
 * connection state (connected or not, since when) for `/health/ready` and for publishers that
 * wait out a lost broker, and a close that releases publishers and consumers (LIFO) before the
 * connection itself.
 */
import { Connection } from "rabbitmq-client";
import type { AmqpConfig } from "../config/config.ts";
import { ConfigError, coerceError, StartupError, UpstreamError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import { deadLetterQueueBounded } from "../lib/telemetry.ts";
import { SECOND } from "../lib/time.ts";
import { describeQueueMismatch } from "./queue-mismatch.ts";
import { createTopology, legacyDeadQueueArguments, type QueueDeclare, type Topology } from "./topology.ts";

export interface BrokerState {
  connected: boolean;
  /** when `connected` last changed (creation time until the first change) */
  since: Date;
  /** last connection error message, null once connected again */
  lastError: string | null;
}

export interface Closeable {
  close(): Promise<void>;
}

export interface BrokerOptions {
  /** shown in the broker's connection list */
  connectionName?: string;
  /** how long `start()` waits for the first connection; default max(reconnectTimeout, 10 s) */
  startTimeoutMs?: number;
  /** reconnect backoff (rabbitmq-client retryLow/retryHigh); defaults 250 ms … 5 s */
  retryLowMs?: number;
  retryHighMs?: number;
  /** a one-shot CLI command: the set-up lines (topology declared) at debug level, not info */
  quiet?: boolean;
}

export interface Broker {
  readonly config: AmqpConfig;
  readonly topology: Topology;
  /** the rabbitmq-client connection; publishers and consumers of this module build on it */
  readonly connection: Connection;
  /** Waits for the first connection and declares the topology. Idempotent. */
  start(): Promise<void>;
  state(): BrokerState;
  /** Resolves true once connected (at once when already), false after `timeoutMs`. */
  waitForConnection(timeoutMs: number): Promise<boolean>;
  /** Registers a resource closed by `close()` before the connection; returns its un-registration. */
  track(resource: Closeable): () => void;
  readonly closed: boolean;
  /** Closes tracked resources in reverse order, then the connection. Idempotent. */
  close(): Promise<void>;
}

const CONNECTION_CLOSE_GRACE_MS = 10 * SECOND;

/** Connection errors that retrying cannot heal: bad credentials, unknown or forbidden vhost. */
const REFUSALS = new Set(["ACCESS_REFUSED", "NOT_ALLOWED"]);

/** Hosts, user and vhost of AMQP_URL (one URL or a comma-separated list), for messages: never the password. */
export function amqpTarget(url: string): { hosts: string; user: string; vhost: string } {
  const parts = url.split(",").map((u) => {
    try {
      return new URL(u.trim());
    } catch {
      return null;
    }
  });
  const first = parts.find((u) => u !== null);
  return {
    hosts: parts
      .map((u) => (u ? `${u.hostname}:${u.port || (u.protocol === "amqps:" ? 5671 : 5672)}` : "?"))
      .join(","),
    user: first ? decodeURIComponent(first.username) || "guest" : "?",
    vhost: first ? decodeURIComponent(first.pathname.slice(1)) || "/" : "/",
  };
}

export function createBroker(config: AmqpConfig, logger: Logger, options: BrokerOptions = {}): Broker {
  const log = logger.child({ component: "broker" });
  const topology = createTopology(config);
  const connection = new Connection({
    ...nodes(config.urls),
    connectionName: options.connectionName ?? "item-sync",
    retryLow: options.retryLowMs ?? 250,
    retryHigh: options.retryHighMs ?? 5 * SECOND,
    // a channel request made while disconnected waits this long; publishers wait on their own
    acquireTimeout: Math.max(config.reconnectTimeoutMs, SECOND),
  });

  let state: BrokerState = { connected: false, since: new Date(), lastError: null };
  let waiters: { promise: Promise<boolean>; resolve: (connected: boolean) => void } | null = null;
  const resources: Closeable[] = [];
  let started: Promise<void> | null = null;
  let closing: Promise<void> | null = null;

  const setConnected = (connected: boolean) => {
    if (state.connected === connected) return;
    state = { connected, since: new Date(), lastError: connected ? null : state.lastError };
  };
  const wakeWaiters = (connected: boolean) => {
    waiters?.resolve(connected);
    waiters = null;
  };

  let everConnected = false;
  connection.on("connection", () => {
    everConnected = true;
    const wasLost = state.lastError !== null;
    setConnected(true);
    wakeWaiters(true);
    if (wasLost) log.info("broker connection re-established");
    else log.debug("broker connected");
  });
  let refused: Error | null = null;
  connection.on("error", (thrown: unknown) => {
    const err = coerceError(thrown);
    state = { ...state, lastError: err.message };
    // wrong credentials or vhost do not heal by retrying: start() fails at once
    const code = String((err as { code?: unknown }).code);
    if (REFUSALS.has(code) && !connection.ready) {
      refused = err;
      wakeWaiters(false);
      const { hosts, user } = amqpTarget(config.url);
      // before the first connection start() reports it; later, say it plainly while retrying
      if (!everConnected) return;
      setConnected(false);
      if (!closing)
        log.error(`RabbitMQ at ${hosts} refused user "${user}" (${code}): check AMQP_URL; retrying`);
      return;
    }
    setConnected(connection.ready);
    // rabbitmq-client reports a lost connection once, not every failed reconnect attempt
    if (!closing) log.warn("broker connection error; reconnecting", { err });
  });
  connection.on("connection.blocked", (reason: string) => {
    log.warn("broker blocked publishing (resource alarm)", { reason });
    setConnected(false);
  });
  connection.on("connection.unblocked", () => {
    log.info("broker unblocked publishing");
    setConnected(connection.ready);
    if (connection.ready) wakeWaiters(true);
  });

  const waitForConnection = async (timeoutMs: number): Promise<boolean> => {
    if (connection.ready) {
      setConnected(true);
      return true;
    }
    setConnected(false);
    if (closing || timeoutMs <= 0) return false;
    if (!waiters) {
      let resolve = (_connected: boolean) => {};
      const promise = new Promise<boolean>((r) => {
        resolve = r;
      });
      waiters = { promise, resolve };
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<false>((r) => {
      timer = setTimeout(() => r(false), timeoutMs);
    });
    try {
      return await Promise.race([waiters.promise, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  };

  /**
   * A `.dead` queue declared by a release before the length limit: accepted as it is (declared
   * with its old arguments, which every later declaration of this process then repeats), with a
   * warning and `item_sync_dead_letter_queue_bounded` 0, so an upgrade never stops on it.
   */
  const acceptUnboundedDeadQueue = async (
    ch: Awaited<ReturnType<Connection["acquire"]>>,
    index: number,
    params: QueueDeclare,
  ): Promise<boolean> => {
    const work = Object.entries(topology.queues).find(([, q]) => `${q}.dead` === params.queue)?.[1];
    if (!work) return false;
    const legacy: QueueDeclare = {
      queue: params.queue,
      durable: true,
      arguments: legacyDeadQueueArguments(config),
    };
    try {
      await ch.queueDeclare(legacy);
    } catch {
      return false;
    }
    topology.queueDeclares[index] = legacy;
    deadLetterQueueBounded.set({ queue: work }, 0);
    log.warn(
      `RabbitMQ queue "${params.queue}" was declared by an earlier release without a length limit: it is used as it is, unbounded. Re-create it to bound it at AMQP_DEAD_LETTER_MAX_LENGTH (docs/cluster.md, "Bounded dead-letter queues")`,
      { queue: params.queue },
    );
    return true;
  };

  const declareTopology = async () => {
    let ch = await connection.acquire();
    const mismatches: string[] = [];
    try {
      for (const params of topology.exchanges) await ch.exchangeDeclare(params);
      for (const [index, params] of topology.queueDeclares.entries()) {
        try {
          await ch.queueDeclare(params);
          const work = Object.values(topology.queues).find((q) => `${q}.dead` === params.queue);
          if (work && params.arguments?.["x-max-length"] !== undefined)
            deadLetterQueueBounded.set({ queue: work }, 1);
        } catch (thrown) {
          // the broker closed the channel with the error: go on with a new one
          ch = await connection.acquire();
          if (await acceptUnboundedDeadQueue(ch, index, params)) continue;
          if (!ch.active) ch = await connection.acquire();
          const mismatch = await describeQueueMismatch(ch, config, params, thrown);
          if (!mismatch) throw thrown;
          mismatches.push(mismatch);
          if (!ch.active) ch = await connection.acquire();
        }
      }
      if (mismatches.length > 0) throw new ConfigError(mismatches);
      for (const params of topology.bindings) await ch.queueBind(params);
    } finally {
      if (ch.active) await ch.close().catch(() => {});
    }
  };

  const start = async () => {
    const timeoutMs = options.startTimeoutMs ?? Math.max(config.reconnectTimeoutMs, 10 * SECOND);
    const target = amqpTarget(config.url);
    // until connected, say every few seconds what is awaited and for how much longer
    const giveUpAt = Date.now() + timeoutMs;
    const tell = () => {
      if (connection.ready || state.lastError === null) return;
      const secondsLeft = Math.max(0, Math.round((giveUpAt - Date.now()) / SECOND));
      log.warn(
        `waiting for RabbitMQ at ${target.hosts} (AMQP_URL): ${state.lastError}; retrying, giving up in ${secondsLeft} s`,
        { secondsLeft },
      );
    };
    const first = setTimeout(tell, Math.min(SECOND, timeoutMs));
    const ticker = setInterval(tell, options.retryHighMs ?? 5 * SECOND);
    let connected: boolean;
    try {
      connected = await waitForConnection(timeoutMs);
    } finally {
      clearTimeout(first);
      clearInterval(ticker);
    }
    if (!connected && refused) {
      const code = String((refused as { code?: unknown }).code);
      throw new StartupError(
        code === "ACCESS_REFUSED"
          ? `AMQP_URL: RabbitMQ at ${target.hosts} refused user "${target.user}" (ACCESS_REFUSED): check the user name and password in AMQP_URL`
          : `AMQP_URL: RabbitMQ at ${target.hosts} refused user "${target.user}" on virtual host "${target.vhost}" (${code}): ${refused.message.replace(/^[^:]*: /, "")}`,
        { cause: refused },
      );
    }
    if (!connected) {
      throw new StartupError(
        `AMQP_URL: could not connect to RabbitMQ at ${target.hosts} within ${Math.round(timeoutMs / SECOND)} s (${state.lastError ?? "no answer"}); is it running? (the wait is max(AMQP_RECONNECT_TIMEOUT, 10 s))`,
      );
    }
    try {
      await declareTopology();
    } catch (thrown) {
      if (thrown instanceof ConfigError) throw thrown;
      const err = coerceError(thrown);
      throw new UpstreamError("BROKER_TOPOLOGY", `declaring the RabbitMQ topology failed: ${err.message}`, {
        retryable: false,
        cause: err,
      });
    }
    (options.quiet ? log.debug : log.info).call(log, "broker topology declared", {
      exchange: topology.exchange,
      queues: Object.values(topology.queues),
    });
  };

  const close = async () => {
    wakeWaiters(false);
    let first: unknown;
    for (const resource of resources.splice(0).reverse()) {
      try {
        await resource.close();
      } catch (err) {
        first ??= err;
      }
    }
    // close() waits for every channel; never let a wedged socket hold shutdown forever
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<"timeout">((r) => {
      timer = setTimeout(() => r("timeout"), CONNECTION_CLOSE_GRACE_MS);
    });
    const outcome = await Promise.race([connection.close().then(() => "closed" as const), grace]);
    clearTimeout(timer);
    if (outcome === "timeout") connection.unsafeDestroy();
    setConnected(false);
    if (first) throw first;
  };

  return {
    config,
    topology,
    connection,
    start: () => {
      started ??= start().catch((err) => {
        started = null;
        throw err;
      });
      return started;
    },
    state: () => {
      if (!closing) setConnected(connection.ready);
      return { ...state };
    },
    waitForConnection,
    track: (resource) => {
      resources.push(resource);
      return () => {
        const i = resources.indexOf(resource);
        if (i >= 0) resources.splice(i, 1);
      };
    },
    get closed() {
      return closing !== null;
    },
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}

/** rabbitmq-client's connection target: one URL, or the first URL's credentials and every node. */
function nodes(urls: readonly string[]): { url: string | undefined; hosts?: string[] } {
  if (urls.length <= 1) return { url: urls[0] };
  return { url: urls[0], hosts: urls.map((u) => new URL(u).host) };
}
