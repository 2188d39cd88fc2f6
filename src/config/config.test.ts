/** loadConfig for the cluster settings (AMQP_URL lists, the queue type, multi-host DATABASE_URL, SYNC_CRON) and the switch-over ones. */
import { describe, expect, test } from "bun:test";
import { ConfigError } from "../lib/errors.ts";
import { redact, registerSecret } from "../lib/log.ts";
import { loadConfig, parsePostgresUrl, secretValues } from "./config.ts";

const BASE = {
  GITLAB_URL: "https://gitlab.example.org",
  GITLAB_TOKEN: "glpat-secret",
  GITLAB_GROUP: "imrt/items",
  WEBHOOK_URL: "https://item-sync.example.org/webhooks/gitlab",
  WEBHOOK_SECRET: "a-webhook-secret-of-24-chars",
  API_TOKENS: "a-static-token-0123456789",
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...BASE, ...env });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe("AMQP", () => {
  test("defaults: one node, quorum queues, 10 deliveries", () => {
    const c = loadConfig(BASE).amqp;
    expect(c.urls).toEqual(["amqp://guest:guest@localhost:5672"]);
    expect(c.queueType).toBe("quorum");
    expect(c.deliveryLimit).toBe(10);
  });

  test("AMQP_URL lists the nodes of a cluster, in order; every password is a secret", () => {
    const c = loadConfig({
      ...BASE,
      AMQP_URL: "amqp://u:pw123456@rmq-0:5672/v, amqp://u:pw123456@rmq-1:5673/v,amqp://u:pw123456@rmq-2/v",
    });
    expect(c.amqp.urls).toEqual([
      "amqp://u:pw123456@rmq-0:5672/v",
      "amqp://u:pw123456@rmq-1:5673/v",
      "amqp://u:pw123456@rmq-2/v",
    ]);
    expect(secretValues(c)).toContain("pw123456");
  });

  test("nodes that differ in anything but host and port are refused, without echoing the URL", () => {
    const found = problems({ AMQP_URL: "amqp://u:secretpw@a:5672,amqp://other:secretpw@b:5672" });
    expect(found).toHaveLength(1);
    expect(found[0]).toContain("must share the scheme, user, password, vhost");
    expect(found.join()).not.toContain("secretpw");
    expect(problems({ AMQP_URL: "amqp://a:5672,http://b" })[0]).toContain("amqp: or amqps:");
  });

  test("AMQP_QUEUE_TYPE and AMQP_DELIVERY_LIMIT are checked", () => {
    expect(loadConfig({ ...BASE, AMQP_QUEUE_TYPE: "classic" }).amqp.queueType).toBe("classic");
    expect(problems({ AMQP_QUEUE_TYPE: "stream", AMQP_DELIVERY_LIMIT: "0" })).toEqual([
      'AMQP_QUEUE_TYPE: "stream" must be one of quorum, classic',
      'AMQP_DELIVERY_LIMIT: "0" must be a whole number from 1 to 1000000',
    ]);
  });
});

describe("DATABASE_URL", () => {
  test("a libpq-style list of hosts is accepted and its password is a secret", () => {
    const url = "postgres://item:dbpw1234@pg-0:5432,pg-1:5433/imrt?target_session_attrs=read-write";
    const c = loadConfig({ ...BASE, DATABASE_URL: url });
    expect(c.databaseUrl).toBe(url);
    expect(secretValues(c)).toContain("dbpw1234");
    expect(parsePostgresUrl(url).hosts).toEqual(["pg-0:5432", "pg-1:5433"]);
  });

  test("a broken host list is refused", () => {
    expect(problems({ DATABASE_URL: "postgres://u@h1:5432,h2:notaport/db" })[0]).toContain(
      "several hosts for failover",
    );
  });
});

describe("SYNC_CRON", () => {
  test("is validated with croner: a pattern it refuses is a problem listed with the others", () => {
    const found = problems({ SYNC_CRON: "61 9 * * *", AMQP_QUEUE_TYPE: "x" });
    expect(found).toHaveLength(2);
    expect(found.find((p) => p.startsWith("SYNC_CRON"))).toContain("is not a valid cron pattern");
    expect(problems({ SYNC_CRON: "*/15 * * * *" })).toEqual([]);
    expect(loadConfig({ ...BASE, SYNC_CRON: "off" }).syncCron).toBeNull();
  });
});

describe("switch-over from the replaced service", () => {
  test("defaults: schema public, deletion pass on, no legacy hook urls", () => {
    const c = loadConfig(BASE);
    expect(c.databaseSchema).toBe("public");
    expect(c.syncDeleteEnabled).toBe(true);
    expect(c.gitlab.webhookLegacyUrls).toEqual([]);
  });

  test("WEBHOOK_LEGACY_URLS, DATABASE_SCHEMA and SYNC_DELETE_ENABLED are read", () => {
    const c = loadConfig({
      ...BASE,
      WEBHOOK_LEGACY_URLS: "http://ap-imrt-iis-service/webHook, https://iis.example.org/webHook",
      DATABASE_SCHEMA: "item_sync",
      SYNC_DELETE_ENABLED: "false",
    });
    expect(c.gitlab.webhookLegacyUrls).toEqual([
      "http://ap-imrt-iis-service/webHook",
      "https://iis.example.org/webHook",
    ]);
    expect(c.databaseSchema).toBe("item_sync");
    expect(c.syncDeleteEnabled).toBe(false);
  });

  test("bad values are refused with the variable named", () => {
    const named = (env: Record<string, string>) => problems(env).join("\n");
    expect(named({ WEBHOOK_LEGACY_URLS: "not a url" })).toContain("WEBHOOK_LEGACY_URLS");
    expect(named({ WEBHOOK_LEGACY_URLS: "ftp://x.example/hook" })).toContain("WEBHOOK_LEGACY_URLS");
    for (const schema of ["Item-Sync", "1abc", "pg_temp", 'a"b', "x".repeat(64)])
      expect(named({ DATABASE_SCHEMA: schema })).toContain("DATABASE_SCHEMA");
    expect(named({ SYNC_DELETE_ENABLED: "maybe" })).toContain("SYNC_DELETE_ENABLED");
  });
});

describe("URL passwords", () => {
  test("a short one is redacted where a URL shows it, never as free text (guest, item)", () => {
    const c = loadConfig({
      ...BASE,
      AMQP_URL: "amqp://guest:guest@rmq:5672",
      DATABASE_URL: "postgres://imrt:item@pg:5432/imrt",
    });
    expect(secretValues(c)).not.toContain("guest");
    expect(secretValues(c)).not.toContain("item");
    for (const s of secretValues(c)) registerSecret(s);
    expect(redact("item-sync: update-item for user guest")).toBe("item-sync: update-item for user guest");
    expect(redact("postgres://imrt:item@pg:5432/imrt amqp://guest:guest@rmq")).toBe(
      "postgres://imrt:[redacted]@pg:5432/imrt amqp://guest:[redacted]@rmq",
    );
  });
});
