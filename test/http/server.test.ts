/**
 * The server around the app (src/http/server.ts), over real sockets: strangers in flight are
 * capped while token holders pass, every request has a total time limit, a refused request's
 * unread body does not hold its connection, refusals are counted and logged without flooding
 * and without the token, and behind trusted proxies the client is who the proxy saw.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createApp } from "../../src/http/app.ts";
import {
  type Authenticator,
  combineAuthenticators,
  createStaticTokenAuthenticator,
} from "../../src/http/auth/auth.ts";
import { createRefusalLog } from "../../src/http/refusals.ts";
import { clientAddress, createHttpGate, type HttpServer, trustedProxyList } from "../../src/http/server.ts";
import { createLogger, silentLogger } from "../../src/lib/log.ts";
import { registry } from "../../src/lib/telemetry.ts";
import { testAppDeps } from "../helpers/app.ts";

const STATIC = "server-static-token-0123456789";

/** An authenticator that answers unknown tokens only when released (a provider that is slow). */
function slowProvider() {
  let release = () => {};
  let gate = new Promise<void>((r) => (release = r));
  let asked = 0;
  const auth: Authenticator = {
    async authenticate() {
      asked++;
      await gate;
      return { ok: false, status: 401, code: "UNAUTHORIZED", message: "the bearer token is not valid" };
    },
  };
  return {
    auth,
    asked: () => asked,
    release() {
      release();
      gate = new Promise<void>((r) => (release = r));
    },
  };
}

function buildApp(
  authenticator: Authenticator,
  context: ReturnType<typeof createHttpGate>,
  logger = silentLogger,
) {
  return createApp(testAppDeps({ authenticator, logger, context }));
}

const servers: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

/** Writes `head` (and `body`) on a socket; resolves with what came back once the server closed. */
function raw(port: number, head: string, body = ""): Promise<{ text: string; closedByServer: boolean }> {
  let text = "";
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      resolve({ text, closedByServer: false });
    }, 8000); // under the server's 10 s idle timeout: only an explicit close ends it sooner
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open: (socket) => {
          socket.write(head + body);
        },
        data: (_socket, data) => {
          text += data.toString();
        },
        close: () => {
          clearTimeout(timer);
          if (!done) resolve({ text, closedByServer: true });
        },
        error: (_socket, err) => reject(err),
      },
    }).catch(reject);
  });
}

describe("strangers in flight", () => {
  test("beyond the cap a stranger gets 503 at the door; a token holder and the probes still pass", async () => {
    const provider = slowProvider();
    const gate = createHttpGate({
      maxStrangers: 4,
      knownToken: (token) => token === STATIC,
    });
    const app = buildApp(
      combineAuthenticators([
        createStaticTokenAuthenticator([{ token: STATIC, role: "read" }]),
        provider.auth,
      ]),
      gate,
    );
    const server = gate.listen(app, { hostname: "127.0.0.1", port: 0, variable: "PORT" });
    servers.push(server);
    const base = `http://127.0.0.1:${server.port}`;
    const stranger = (i: number) =>
      fetch(`${base}/jobs`, { headers: { authorization: `Bearer made-up-${i}` } });

    const waiting = Array.from({ length: 4 }, (_, i) => stranger(i));
    while (provider.asked() < 4) await Bun.sleep(5);
    expect(gate.strangers()).toBe(4);

    const shed = await Promise.all(Array.from({ length: 6 }, (_, i) => stranger(100 + i)));
    expect(shed.map((r) => r.status)).toEqual([503, 503, 503, 503, 503, 503]);
    const first = shed[0] as Response;
    expect(((await first.json()) as { error: { code: string } }).error.code).toBe("OVERLOADED");
    expect(first.headers.get("retry-after")).toBe("1");
    expect(provider.asked()).toBe(4); // the shed ones cost nothing

    const operator = await fetch(`${base}/jobs`, { headers: { authorization: `Bearer ${STATIC}` } });
    expect(operator.status).toBe(200);
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);

    provider.release();
    expect((await Promise.all(waiting)).map((r) => r.status)).toEqual([401, 401, 401, 401]);
    while (gate.strangers() > 0) await Bun.sleep(5);
    const later = stranger(999); // admitted again once there is room
    while (provider.asked() < 5) await Bun.sleep(5);
    provider.release();
    expect((await later).status).toBe(401);
  });
});

describe("total time limit", () => {
  test("a request not answered in time gets 503 TIMEOUT; its slot is freed when its work ends", async () => {
    const provider = slowProvider();
    const gate = createHttpGate({ requestTimeoutMs: 300 });
    const server = gate.listen(buildApp(provider.auth, gate), {
      hostname: "127.0.0.1",
      port: 0,
      variable: "PORT",
    });
    servers.push(server);
    const res = await fetch(`http://127.0.0.1:${server.port}/jobs`, {
      headers: { authorization: "Bearer x" },
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("TIMEOUT");
    expect(res.headers.get("connection")).toBe("close");
    expect(gate.strangers()).toBe(1); // still waiting on the provider
    provider.release();
    while (gate.strangers() > 0) await Bun.sleep(5);
  });
});

describe("unread bodies", () => {
  test("a refusal closes the connection instead of waiting for the rest of the body", async () => {
    const gate = createHttpGate();
    const app = buildApp(createStaticTokenAuthenticator([{ token: STATIC, role: "read" }]), gate);
    const server = gate.listen(app, { hostname: "127.0.0.1", port: 0, variable: "PORT" });
    servers.push(server);
    for (const path of ["/sync", "/webhooks/gitlab", "/nope"]) {
      // a body announced at 100 kB, 10 bytes sent, then nothing
      const head = `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`;
      const { text, closedByServer } = await raw(server.port, head, '{"a":"b",');
      expect({ path, status: text.split("\r\n")[0], closedByServer }).toEqual({
        path,
        status: expect.stringMatching(/^HTTP\/1\.1 (401|404) /),
        closedByServer: true,
      });
      expect(text.toLowerCase()).toContain("connection: close");
    }
  }, 30_000);
});

describe("refusals", () => {
  test("counted by reason and logged at most once per interval, never with the token", async () => {
    const lines: string[] = [];
    let clock = 0;
    const refusals = createRefusalLog(
      createLogger("info", {}, (line) => lines.push(line)),
      { intervalMs: 10_000, now: () => clock },
    );
    const gate = createHttpGate({ refusals });
    const app = createApp(
      testAppDeps({
        authenticator: createStaticTokenAuthenticator([{ token: STATIC, role: "read" }]),
        refusals,
        context: gate,
      }),
    );
    const server = gate.listen(app, { hostname: "127.0.0.1", port: 0, variable: "PORT" });
    servers.push(server);
    const base = `http://127.0.0.1:${server.port}`;
    const before = await refusalCount("invalid_token");
    const badToken = "a-bad-token-never-logged-0123456789";
    for (let i = 0; i < 50; i++)
      await fetch(`${base}/jobs`, { headers: { authorization: `Bearer ${badToken}` } });
    for (let i = 0; i < 5; i++) await fetch(`${base}/jobs`);
    await fetch(`${base}/sync`, { method: "POST", headers: { authorization: `Bearer ${STATIC}` } });
    expect((await refusalCount("invalid_token")) - before).toBe(50);
    expect(lines).toHaveLength(1); // the first refusal, at once
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      msg: "request refused",
      reason: "invalid_token",
      method: "GET",
      route: "/jobs…",
      client: "127.0.0.1",
    });
    clock += 10_000;
    refusals.close();
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1] as string)).toMatchObject({
      msg: "requests refused",
      total: 55,
      counts: { invalid_token: 49, unauthenticated: 5, forbidden: 1 },
    });
    expect(lines.join("\n")).not.toContain(badToken);
  });
});

describe("the client's address", () => {
  const server = (peer: string) => ({
    requestIP: () => ({ address: peer, family: "IPv6" as const, port: 1 }),
  });
  const request = (xff?: string) =>
    new Request("http://localhost/jobs", xff === undefined ? {} : { headers: { "x-forwarded-for": xff } });
  const proxies = trustedProxyList(["10.0.0.0/8", "fd00::/8"]);

  test("the peer, unless it is a trusted proxy: then the right-most address it did not add itself", () => {
    expect(clientAddress(request("1.2.3.4"), server("::ffff:192.0.2.9"), proxies)).toBe("192.0.2.9");
    expect(clientAddress(request("1.2.3.4"), server("192.0.2.9"), null)).toBe("192.0.2.9");
    expect(clientAddress(request("6.6.6.6, 1.2.3.4"), server("10.1.2.3"), proxies)).toBe("1.2.3.4");
    expect(clientAddress(request("6.6.6.6, 1.2.3.4, 10.9.9.9"), server("10.1.2.3"), proxies)).toBe("1.2.3.4");
    expect(clientAddress(request("1.2.3.4, evil"), server("10.1.2.3"), proxies)).toBe("10.1.2.3");
    expect(clientAddress(request(), server("fd00::7"), proxies)).toBe("fd00::7");
  });
});

async function refusalCount(reason: string): Promise<number> {
  const metric = await registry.getSingleMetric("item_sync_http_refusals_total")?.get();
  return metric?.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}
