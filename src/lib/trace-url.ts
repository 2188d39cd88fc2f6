/**
 * TRACE_URL_TEMPLATE: where the dashboard links a run to its trace in the tracing backend's UI
 * (Grafana Explore on Tempo, Jaeger, …). Spans carry the execution id as
 * `item_sync.execution.id`, so a search by that attribute over the run's time finds them. The
 * template is expanded in the browser (src/ui/charts.js) with these placeholders; the chart's
 * Grafana dashboard takes the same ones (metrics.grafanaDashboard.traceUrl).
 */

/** Placeholders and what the page puts there. */
export const TRACE_URL_PLACEHOLDERS = {
  executionId: "the execution id",
  startMs: "a minute before the run started, Unix milliseconds (Grafana's from)",
  endMs: "a minute after it ended (or now, while it runs), Unix milliseconds (Grafana's to)",
  startUs: "the same start in Unix microseconds (Jaeger's start)",
  endUs: "the same end in Unix microseconds (Jaeger's end)",
} as const;

const PLACEHOLDER = /\{([A-Za-z]+)\}/g;

/** Why `template` cannot be used as TRACE_URL_TEMPLATE, or null when it can (empty: no link). */
export function traceUrlProblem(template: string): string | null {
  if (template === "") return null;
  const unknown = [...template.matchAll(PLACEHOLDER)]
    .map((m) => m[1] as string)
    .filter((name) => !(name in TRACE_URL_PLACEHOLDERS));
  if (unknown.length > 0) {
    const known = Object.keys(TRACE_URL_PLACEHOLDERS)
      .map((n) => `{${n}}`)
      .join(", ");
    return `unknown placeholder ${unknown.map((n) => `{${n}}`).join(", ")}; known: ${known}`;
  }
  let url: URL;
  try {
    url = new URL(template.replace(PLACEHOLDER, "1"));
  } catch {
    return "not a URL (give an absolute http(s) URL with placeholders such as {executionId})";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "must be an http or https URL";
  if (!template.includes("{executionId}")) return "must contain {executionId} (how the trace is found)";
  return null;
}
