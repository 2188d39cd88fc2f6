/**
 * The in-process ingest workers a test drives: a configuration for the database and simulator
 * it is given, with broker names of its own; a started broker with a publisher; the workers; an
 * admin connection. `close()` undoes all of it, topology included.
 */
import type { Connection } from "rabbitmq-client";
import { type Config, loadConfig } from "../../src/config/config.ts";
import { createGitlabClient } from "../../src/gitlab/client.ts";
import { type Ingest, startIngest } from "../../src/ingest/workers.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { type Broker, createBroker } from "../../src/queue/broker.ts";
import { createPublisher, type Publisher } from "../../src/queue/publisher.ts";
import type { TestDatabase } from "../helpers/db.ts";
import {
  adminConnection,
  amqpEnv,
  deleteTopology,
  testAmqpUrl,
  uniqueConfig,
} from "../queue/amqp-helpers.ts";
import type { GitlabSim } from "../sim/gitlab.ts";

export const WEBHOOK_URL = "https://item-sync.test/webhooks/gitlab";

export interface IngestFixture {
  config: Config;
  broker: Broker;
  publisher: Publisher;
  ingest: Ingest;
  admin: Connection;
  close(): Promise<void>;
}

export async function startIngestFixture(
  t: TestDatabase,
  sim: GitlabSim,
  opts: {
    /** a name for the test's secrets */
    name: string;
    /** the GitLab client's retries: short, so a test of failures does not wait */
    retry: { retries: number; baseMs: number; maxMs: number };
    gateProbeIntervalMs?: number;
  },
): Promise<IngestFixture> {
  const config = loadConfig({
    DATABASE_URL: t.url,
    GITLAB_URL: sim.url,
    GITLAB_TOKEN: sim.token,
    GITLAB_GROUP: sim.group,
    WEBHOOK_URL,
    WEBHOOK_SECRET: `${opts.name}-webhook-secret-0123456789`,
    API_TOKENS: `${opts.name}-token-0123456789`,
    ...amqpEnv(uniqueConfig(testAmqpUrl())),
  });
  const broker = createBroker(config.amqp, silentLogger);
  await broker.start();
  const publisher = createPublisher(broker, silentLogger);
  const gitlab = createGitlabClient(config.gitlab, { logger: silentLogger, retry: opts.retry });
  const ingest = await startIngest({
    config,
    broker,
    db: t.db,
    gitlab,
    logger: silentLogger,
    ...(opts.gateProbeIntervalMs ? { gateProbeIntervalMs: opts.gateProbeIntervalMs } : {}),
  });
  const admin = adminConnection(config.amqp.url);
  return {
    config,
    broker,
    publisher,
    ingest,
    admin,
    async close() {
      await ingest.close();
      await publisher.close();
      await broker.close();
      await admin.close();
      await deleteTopology(config.amqp.url, config.amqp);
    },
  };
}
