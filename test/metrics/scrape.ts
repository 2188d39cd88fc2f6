/** Reading a running process's /metrics in end-to-end tests: fetched, checked and parsed strictly. */
import { expect } from "bun:test";
import { type Family, parsePrometheusText, sampleValue } from "./prometheus-text.ts";

export type Families = Map<string, Family>;

/** GET {baseUrl}/metrics: 200, the text format's content type, parsed by the strict parser. */
export async function scrapeMetrics(baseUrl: string): Promise<Families> {
  const res = await fetch(`${baseUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  return parsePrometheusText(await res.text());
}

/** Deliveries the consumers of `queue` handled, 0 before the first. */
export function handledCount(families: Families, queue: string): number {
  return sampleValue(families, "item_sync_consumer_messages_total", { queue, outcome: "handled" }) ?? 0;
}
