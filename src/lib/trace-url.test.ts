/** TRACE_URL_TEMPLATE: which templates start-up accepts, and the message for the others. */
import { describe, expect, test } from "bun:test";
import { loadConfig } from "../config/config.ts";
import { ConfigError } from "./errors.ts";
import { traceUrlProblem } from "./trace-url.ts";

const JAEGER =
  "https://jaeger.example.org/search?service=item-sync&tags=%7B%22item_sync.execution.id%22%3A%22{executionId}%22%7D&start={startUs}&end={endUs}";
const TEMPO =
  "https://grafana.example.org/explore?schemaVersion=1&panes=%7B%22t%22%3A%7B%22datasource%22%3A%22tempo%22%2C%22queries%22%3A%5B%7B%22refId%22%3A%22A%22%2C%22queryType%22%3A%22traceql%22%2C%22query%22%3A%22%7Bspan.item_sync.execution.id%3D{executionId}%7D%22%7D%5D%2C%22range%22%3A%7B%22from%22%3A%22{startMs}%22%2C%22to%22%3A%22{endMs}%22%7D%7D%7D";

describe("traceUrlProblem", () => {
  test("empty (no link), a Jaeger search and a Grafana Explore on Tempo are accepted", () => {
    expect(traceUrlProblem("")).toBeNull();
    expect(traceUrlProblem(JAEGER)).toBeNull();
    expect(traceUrlProblem(TEMPO)).toBeNull();
  });

  test("an unknown placeholder is named with the known ones", () => {
    expect(traceUrlProblem("https://t.example.org/trace/{traceId}?run={executionId}")).toBe(
      "unknown placeholder {traceId}; known: {executionId}, {startMs}, {endMs}, {startUs}, {endUs}",
    );
  });

  test("not a URL, not http(s), or no {executionId}: refused", () => {
    expect(traceUrlProblem("jaeger/search?run={executionId}")).toMatch(/^not a URL/);
    expect(traceUrlProblem("javascript:alert({executionId})")).toBe("must be an http or https URL");
    expect(traceUrlProblem("https://jaeger.example.org/search?start={startUs}")).toMatch(
      /must contain \{executionId\}/,
    );
  });

  test("start-up reads TRACE_URL_TEMPLATE and lists its problem with the others", () => {
    const base = {
      GITLAB_URL: "https://gitlab.example.org",
      GITLAB_TOKEN: "glpat-secret",
      GITLAB_GROUP: "imrt/items",
      WEBHOOK_URL: "https://item-sync.example.org/webhooks/gitlab",
      WEBHOOK_SECRET: "a-webhook-secret-of-24-chars",
      API_TOKENS: "a-static-token-0123456789",
    };
    expect(loadConfig(base).traceUrlTemplate).toBe("");
    expect(loadConfig({ ...base, TRACE_URL_TEMPLATE: JAEGER }).traceUrlTemplate).toBe(JAEGER);
    let problems: string[] = [];
    try {
      loadConfig({ ...base, TRACE_URL_TEMPLATE: "ftp://t.example.org/{executionId}" });
    } catch (err) {
      if (err instanceof ConfigError) problems = err.problems;
    }
    expect(problems).toEqual(["TRACE_URL_TEMPLATE: must be an http or https URL"]);
  });
});
