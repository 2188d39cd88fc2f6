/**
 * An HTTP proxy in front of the GitLab simulator for the faults the simulator itself does not
 * make: answers that hang past the client's timeout, connections reset in the middle of the
 * body, malformed JSON with a 200, and project pages shorter than `per_page` in the middle of the
 * list (projects GitLab hides from listings). `decide(req)` picks the fault of each request.
 */

export type HttpFault =
  | { kind: "pass" }
  | { kind: "hang"; ms: number }
  | { kind: "reset-mid-body" }
  | { kind: "malformed-json" }
  | { kind: "hide-projects"; ids: ReadonlySet<number> };

export interface FaultProxy {
  url: string;
  counts: Record<string, number>;
  setDecider(fn: (req: Request, url: URL) => HttpFault): void;
  close(): Promise<void>;
}

export function startFaultProxy(upstream: string): FaultProxy {
  let decide: (req: Request, url: URL) => HttpFault = () => ({ kind: "pass" });
  const counts: Record<string, number> = {};
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const fault = decide(req, url);
      counts[fault.kind] = (counts[fault.kind] ?? 0) + 1;
      if (fault.kind === "hang") await Bun.sleep(fault.ms);
      const headers = new Headers(req.headers);
      headers.delete("host");
      const res = await fetch(`${upstream}${url.pathname}${url.search}`, {
        method: req.method,
        headers,
        body: req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer(),
      });
      const body = await res.text();
      const out = new Headers(res.headers);
      out.delete("content-length");
      out.delete("content-encoding");
      if (fault.kind === "reset-mid-body") {
        const bytes = new TextEncoder().encode(body);
        return new Response(
          new ReadableStream({
            async start(controller) {
              controller.enqueue(bytes.subarray(0, Math.floor(bytes.length / 2)));
              await Bun.sleep(5);
              controller.error(undefined); // an abort without an error object: Bun logs nothing
            },
          }),
          { status: res.status, headers: out },
        );
      }
      if (fault.kind === "malformed-json" && res.ok) {
        return new Response(`${body.slice(0, Math.max(1, Math.floor(body.length / 3)))},{"id":`, {
          status: 200,
          headers: out,
        });
      }
      if (fault.kind === "hide-projects" && res.ok) {
        const rows = JSON.parse(body) as { id: number }[];
        return new Response(JSON.stringify(rows.filter((r) => !fault.ids.has(r.id))), {
          status: 200,
          headers: out,
        });
      }
      return new Response(body, { status: res.status, headers: out });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    counts,
    setDecider(fn) {
      decide = fn;
    },
    async close() {
      await server.stop(true);
    },
  };
}
