/**
 * The process's one Prometheus registry and the instruments the transport layers record into as
 * things happen: GitLab requests (requester, pacer), publishes (publisher), deliveries
 * (consumers) and HTTP requests (app). Figures read at scrape time — executions, progress, item
 * rows — are added by src/observability/metrics.ts.
 *
 * Naming follows Prometheus conventions: `item_sync_` prefix, `_total` counters, base units
 * (`_seconds`), and only bounded label values (route templates, never raw ids or paths).
 * Module-level instruments, as prom-client intends: every GitLab client, publisher or consumer
 * of the process adds to the same series.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { HotHistogram } from "./hot-histogram.ts";

export const registry = new Registry();

/** The Content-Type of the text the registry renders. */
export const METRICS_CONTENT_TYPE: string = registry.contentType;

let processMetricsOn = false;
/** Standard process metrics (CPU, RSS, open fds, heap, event-loop lag, GC); once per process. */
export function collectProcessMetrics(): void {
  if (processMetricsOn) return;
  processMetricsOn = true;
  collectDefaultMetrics({ register: registry });
}

const registers = [registry];
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const gitlabRequests = new Counter({
  name: "item_sync_gitlab_requests_total",
  help: "GitLab API requests sent, by method, route template and HTTP status (timeout or network_error when no answer came).",
  labelNames: ["method", "route", "status"] as const,
  registers,
});

export const gitlabRequestDuration = new Histogram({
  name: "item_sync_gitlab_request_duration_seconds",
  help: "GitLab API request latency (send to body read), by method and route template.",
  labelNames: ["method", "route"] as const,
  buckets: LATENCY_BUCKETS,
  registers,
});

export const gitlabInFlight = new Gauge({
  name: "item_sync_gitlab_requests_in_flight",
  help: "GitLab API requests sent and not yet answered.",
  registers,
});

export const gitlabWaiting = new Gauge({
  name: "item_sync_gitlab_requests_waiting",
  help: "GitLab API requests waiting for a slot (concurrency, rate cap or Retry-After).",
  registers,
});

export const gitlabRateLimited = new Counter({
  name: "item_sync_gitlab_rate_limited_total",
  help: "GitLab 429 (Too Many Requests) answers received.",
  registers,
});

export const gitlabRateLimitWait = new Counter({
  name: "item_sync_gitlab_rate_limit_wait_seconds_total",
  help: "Wall-clock seconds every GitLab request was held back by Retry-After.",
  registers,
});

export const gitlabRetries = new Counter({
  name: "item_sync_gitlab_retries_total",
  help: "GitLab requests sent again after a 5xx, a timeout or a network error, by method and route template.",
  labelNames: ["method", "route"] as const,
  registers,
});

export const messagesPublished = new Counter({
  name: "item_sync_messages_published_total",
  help: "Messages handed to the publisher, by message type.",
  labelNames: ["type"] as const,
  registers,
});

export const messagesConfirmed = new Counter({
  name: "item_sync_messages_confirmed_total",
  help: "Messages confirmed (and routed) by the broker, by message type.",
  labelNames: ["type"] as const,
  registers,
});

export const messagesFailed = new Counter({
  name: "item_sync_messages_failed_total",
  help: "Publishes that failed for good, by message type and error code.",
  labelNames: ["type", "code"] as const,
  registers,
});

export const messagesResent = new Counter({
  name: "item_sync_messages_resent_total",
  help: "Publish attempts sent again after a channel or connection loss.",
  registers,
});

/** One observation per published message: a HotHistogram (same exposition, cheaper observe). */
export const publishDuration = new HotHistogram(
  "item_sync_publish_duration_seconds",
  "Time from publish to the broker's confirm, by message type (successful publishes).",
  ["type"] as const,
  LATENCY_BUCKETS,
  registers,
);

export const consumerMessages = new Counter({
  name: "item_sync_consumer_messages_total",
  help: "Deliveries finished by the ingest consumers, by queue and outcome (handled, failed after its attempts, malformed).",
  labelNames: ["queue", "outcome"] as const,
  registers,
});

export const consumerDeadLettered = new Counter({
  name: "item_sync_consumer_dead_lettered_total",
  help: "Deliveries sent to the queue's dead-letter queue (failed or malformed); a message put back by `item-sync dead replay` that fails again is not counted again (see item_sync_consumer_dead_lettered_again_total).",
  labelNames: ["queue"] as const,
  registers,
});

export const consumerDeadLetteredAgain = new Counter({
  name: "item_sync_consumer_dead_lettered_again_total",
  help: "Messages put back by `item-sync dead replay` that were dead-lettered again, by queue (already counted once in item_sync_consumer_dead_lettered_total).",
  labelNames: ["queue"] as const,
  registers,
});

export const deadLettersRefused = new Counter({
  name: "item_sync_dead_letters_refused_total",
  help: "Dead letters the broker refused to take because the queue's .dead queue is full (AMQP_DEAD_LETTER_MAX_LENGTH); each went back to its work queue, by queue.",
  labelNames: ["queue"] as const,
  registers,
});

export const deadLetterQueueBounded = new Gauge({
  name: "item_sync_dead_letter_queue_bounded",
  help: "1 when the queue's .dead queue has its length limit, 0 when an earlier release declared it without one (re-create it: docs/cluster.md).",
  labelNames: ["queue"] as const,
  registers,
});

export const consumerRetries = new Counter({
  name: "item_sync_consumer_retries_total",
  help: "Handler attempts that failed and were retried in process, by queue.",
  labelNames: ["queue"] as const,
  registers,
});

export const consumerHandleDuration = new Histogram({
  name: "item_sync_consumer_handle_duration_seconds",
  help: "Time one handler attempt took, by queue.",
  labelNames: ["queue"] as const,
  buckets: LATENCY_BUCKETS,
  registers,
});

export const consumerInFlight = new Gauge({
  name: "item_sync_consumer_messages_in_flight",
  help: "Deliveries being handled now, by queue.",
  labelNames: ["queue"] as const,
  registers,
});

export const httpRequests = new Counter({
  name: "item_sync_http_requests_total",
  help: "HTTP requests answered, by method, route template (unmatched for unknown paths) and status.",
  labelNames: ["method", "route", "status"] as const,
  registers,
});

export const httpRequestDuration = new Histogram({
  name: "item_sync_http_request_duration_seconds",
  help: "HTTP request duration, by method and route template.",
  labelNames: ["method", "route"] as const,
  buckets: LATENCY_BUCKETS,
  registers,
});

export const httpRefusals = new Counter({
  name: "item_sync_http_refusals_total",
  help: "HTTP requests refused before any work was done for them, by reason (unauthenticated, invalid_token, insufficient_scope, forbidden, auth_unavailable, webhook_token, duplicate_parameter, overloaded, timeout).",
  labelNames: ["reason"] as const,
  registers,
});

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** A bounded method label: the standard methods, anything else as `other`. */
export function methodLabel(method: string): string {
  const m = method.toUpperCase();
  return METHODS.has(m) ? m : "other";
}
