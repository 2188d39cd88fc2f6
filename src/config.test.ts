/** loadConfig for the variables of a switch-over from the replaced service. */
import { expect, test } from "bun:test";
import { loadConfig } from "./config.ts";
import { ConfigError } from "./lib/errors.ts";

const BASE = {
  GITLAB_URL: "https://gitlab.example.org",
  GITLAB_TOKEN: "glpat-0123456789",
  GITLAB_GROUP: "imrt/items",
  WEBHOOK_URL: "https://item-sync.example.org/webhooks/gitlab",
  API_TOKENS: "0123456789abcdef0123",
  WEBHOOK_SECRET: "0123456789abcdef01234567",
};

const problems = (env: Record<string, string>) => {
  try {
    loadConfig({ ...BASE, ...env });
    return "";
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
};

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
  expect(problems({ WEBHOOK_LEGACY_URLS: "not a url" })).toContain("WEBHOOK_LEGACY_URLS");
  expect(problems({ WEBHOOK_LEGACY_URLS: "ftp://x.example/hook" })).toContain("WEBHOOK_LEGACY_URLS");
  for (const schema of ["Item-Sync", "1abc", "pg_temp", 'a"b', "x".repeat(64)])
    expect(problems({ DATABASE_SCHEMA: schema })).toContain("DATABASE_SCHEMA");
  expect(problems({ SYNC_DELETE_ENABLED: "maybe" })).toContain("SYNC_DELETE_ENABLED");
});
