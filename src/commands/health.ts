/**
 * `item-sync health [--url URL]`: probes GET /health/live of a running serve or worker (default
 * http://127.0.0.1:$PORT) and exits 0 when it answers 200, 1 otherwise. The image's HEALTHCHECK
 * runs it, so the runtime image needs no HTTP client. It reads only PORT: the rest of the
 * configuration (and its secrets) is the server's business, not the probe's.
 */
import { EXIT, UsageError } from "../cli.ts";
import { coerceError } from "../lib/errors.ts";
import { SECOND } from "../lib/time.ts";

const TIMEOUT_MS = 5 * SECOND;

/** The URL probed: --url as given (a base URL gets /health/live appended), else 127.0.0.1:$PORT. */
export function healthUrl(flag: string | true | undefined, env: Record<string, string | undefined>): URL {
  if (typeof flag === "string") {
    let url: URL;
    try {
      url = new URL(flag);
    } catch {
      throw new UsageError(`--url must be an http(s) URL, got "${flag}"`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new UsageError(`--url must be an http(s) URL, got "${flag}"`);
    }
    if (url.pathname === "/" || url.pathname === "") url.pathname = "/health/live";
    return url;
  }
  const port = env.PORT ?? "8080";
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) {
    throw new UsageError(`PORT must be a port number, got "${port}"`);
  }
  return new URL(`http://127.0.0.1:${port}/health/live`);
}

export async function healthCommand(
  flag: string | true | undefined,
  env: Record<string, string | undefined>,
): Promise<number> {
  const url = healthUrl(flag, env);
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: "manual" });
    await res.body?.cancel();
    if (res.status === 200) {
      process.stdout.write(`healthy: ${url.href} answered 200\n`);
      return EXIT.ok;
    }
    process.stderr.write(`item-sync: unhealthy: ${url.href} answered ${res.status}\n`);
  } catch (err) {
    const e = coerceError(err);
    const reason = e.name === "TimeoutError" ? `no answer within ${TIMEOUT_MS / SECOND} s` : e.message;
    process.stderr.write(`item-sync: unhealthy: ${url.href}: ${reason}\n`);
  }
  return EXIT.failed;
}
