/**
 * A small OTLP/HTTP trace receiver for tests and benchmarks: it answers `POST /v1/traces` as a
 * collector does (200 with an empty partial-success body) and decodes what an exporter sends
 * with `OTEL_EXPORTER_OTLP_PROTOCOL=http/json` (the OTLP JSON encoding: ids as hex strings, enum
 * values as numbers, 64-bit integers as strings or numbers) into plain spans. Protobuf bodies are
 * counted, not decoded (`requests()` says what came, with its content type).
 */

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** "" for a root span */
  parentSpanId: string;
  name: string;
  /** 1 internal, 2 server, 3 client, 4 producer, 5 consumer (OTLP's numbering) */
  kind: number;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  links: { traceId: string; spanId: string }[];
  /** 0 unset, 1 ok, 2 error */
  status: { code: number; message?: string };
  startNs: bigint;
  endNs: bigint;
  resource: Record<string, unknown>;
}

export const OTLP_KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

export interface OtlpReceiver {
  /** The base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans(): ReceivedSpan[];
  requests(): { path: string; contentType: string; bytes: number }[];
  /** Forgets what was received so far. */
  clear(): void;
  stop(): Promise<void>;
}

type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
};
type KeyValue = { key: string; value: AnyValue };

function anyValue(v: AnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(anyValue);
  return undefined;
}

function attributesOf(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, anyValue(kv.value)]));
}

/** OTLP JSON carries ids as hex; a base64 id (protobuf-JSON mapping) is turned into hex too. */
function hexId(id: string | undefined): string {
  if (!id) return "";
  if (/^[0-9a-f]+$/i.test(id) && (id.length === 32 || id.length === 16)) return id.toLowerCase();
  return Buffer.from(id, "base64").toString("hex");
}

/** Decodes one ExportTraceServiceRequest in the OTLP JSON encoding. */
export function decodeOtlpJson(body: unknown): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  const request = body as {
    resourceSpans?: {
      resource?: { attributes?: KeyValue[] };
      scopeSpans?: {
        spans?: {
          traceId: string;
          spanId: string;
          parentSpanId?: string;
          name: string;
          kind?: number;
          startTimeUnixNano: string | number;
          endTimeUnixNano: string | number;
          attributes?: KeyValue[];
          events?: { name: string; attributes?: KeyValue[] }[];
          links?: { traceId: string; spanId: string }[];
          status?: { code?: number; message?: string };
        }[];
      }[];
    }[];
  };
  for (const rs of request.resourceSpans ?? []) {
    const resource = attributesOf(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: hexId(s.traceId),
          spanId: hexId(s.spanId),
          parentSpanId: hexId(s.parentSpanId),
          name: s.name,
          kind: s.kind ?? 0,
          attributes: attributesOf(s.attributes),
          events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attributesOf(e.attributes) })),
          links: (s.links ?? []).map((l) => ({ traceId: hexId(l.traceId), spanId: hexId(l.spanId) })),
          status: { code: s.status?.code ?? 0, message: s.status?.message },
          startNs: BigInt(s.startTimeUnixNano),
          endNs: BigInt(s.endTimeUnixNano),
          resource,
        });
      }
    }
  }
  return out;
}

export function startOtlpReceiver(): OtlpReceiver {
  let spans: ReceivedSpan[] = [];
  let requests: { path: string; contentType: string; bytes: number }[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const contentType = request.headers.get("content-type") ?? "";
      const bytes = new Uint8Array(await request.arrayBuffer());
      requests.push({ path: url.pathname, contentType, bytes: bytes.byteLength });
      if (request.method !== "POST" || url.pathname !== "/v1/traces")
        return new Response("", { status: 404 });
      if (contentType.startsWith("application/json")) {
        spans.push(...decodeOtlpJson(JSON.parse(new TextDecoder().decode(bytes))));
        return Response.json({});
      }
      // protobuf: an empty ExportTraceServiceResponse is zero bytes
      return new Response(new Uint8Array(0), { headers: { "content-type": "application/x-protobuf" } });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    spans: () => spans,
    requests: () => requests,
    clear: () => {
      spans = [];
      requests = [];
    },
    stop: async () => {
      await server.stop(true);
    },
  };
}

/** The spans of one trace, and navigation helpers over them. */
export function traceOf(all: ReceivedSpan[], traceId: string) {
  const spans = all.filter((s) => s.traceId === traceId);
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  return {
    spans,
    parentOf: (s: ReceivedSpan) => byId.get(s.parentSpanId),
    childrenOf: (s: ReceivedSpan) => spans.filter((c) => c.parentSpanId === s.spanId),
    /** Whether `ancestor` is above `s` in the tree. */
    descends: (s: ReceivedSpan, ancestor: ReceivedSpan) => {
      for (let p = byId.get(s.parentSpanId); p; p = byId.get(p.parentSpanId))
        if (p.spanId === ancestor.spanId) return true;
      return false;
    },
  };
}
