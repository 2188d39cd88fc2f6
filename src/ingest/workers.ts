/** Ingest workers: consumers of the monitor, update and delete queues. (wired in the next commit) */
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import type { Logger } from "../lib/log.ts";
import type { Broker } from "../queue/broker.ts";

export interface Ingest {
  close(): Promise<void>;
}

export async function startIngest(_deps: {
  config: Config;
  broker: Broker;
  db: Db;
  logger: Logger;
}): Promise<Ingest> {
  throw new Error("ingest workers are not implemented yet");
}
