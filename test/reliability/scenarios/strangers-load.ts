/**
 * The strangers of scenarios/strangers.ts, as a process of its own:
 *   bun strangers-load.ts PORT CLIENTS DURATION_MS BAD_TOKEN_PREFIX
 * CLIENTS concurrent clients on raw sockets, each looping until DURATION_MS is over — one request
 * per connection, in turn: GET /metrics, GET /health/ready, GET /jobs with a made-up bearer
 * token, or a body announced at 100 kB and trickled a byte every 200 ms. Prints one JSON line:
 * the answers by kind and status, and how long a slow body held its connection at most.
 */
export {}; // a module: top-level await below

type Kind = "metrics" | "ready" | "bad-token" | "slow-body";
const KINDS: Kind[] = ["metrics", "ready", "bad-token", "slow-body"];

const [port = "0", clients = "2000", duration = "20000", badTokenPrefix = "made-up-"] = process.argv.slice(2);
const stopAt = Date.now() + Number(duration);
const statuses: Record<string, number> = {};
let slowBodyHeldMaxMs = 0;
const count = (key: string) => {
  statuses[key] = (statuses[key] ?? 0) + 1;
};

function once(kind: Kind, n: number): Promise<void> {
  return new Promise<void>((resolve) => {
    let received = "";
    let trickle: ReturnType<typeof setInterval> | undefined;
    const opened = performance.now();
    let done = false;
    const finish = (outcome?: string) => {
      if (done) return;
      done = true;
      clearInterval(trickle);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1];
      count(`${kind} ${outcome ?? status ?? "no answer"}`);
      if (kind === "slow-body") slowBodyHeldMaxMs = Math.max(slowBodyHeldMaxMs, performance.now() - opened);
      resolve();
    };
    // a Host of at least 4 characters: Elysia's router needs one (docs: STACK-NOTES)
    const host = "Host: item-sync.test\r\n";
    const head =
      kind === "metrics"
        ? `GET /metrics HTTP/1.1\r\n${host}Connection: close\r\n\r\n`
        : kind === "ready"
          ? `GET /health/ready HTTP/1.1\r\n${host}Connection: close\r\n\r\n`
          : kind === "bad-token"
            ? `GET /jobs HTTP/1.1\r\n${host}Authorization: Bearer ${badTokenPrefix}${n}-${Math.random().toString(36).slice(2)}\r\nConnection: close\r\n\r\n`
            : `POST /${Math.floor(n / KINDS.length) % 2 === 0 ? "sync" : "webhooks/gitlab"} HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`;
    Bun.connect({
      hostname: "127.0.0.1",
      port: Number(port),
      socket: {
        open(socket) {
          socket.write(head);
          if (kind === "slow-body") {
            trickle = setInterval(() => {
              if (Date.now() > stopAt + 60_000) socket.end();
              else socket.write(" ");
            }, 200);
          }
        },
        data(_socket, data) {
          if (received.length < 64) received += data.toString();
        },
        close: () => finish(),
        error: () => finish(),
        connectError: () => finish("connect error"),
      },
    }).catch(() => finish("connect error"));
  });
}

await Promise.all(
  Array.from({ length: Number(clients) }, async (_, n) => {
    const kind = KINDS[n % KINDS.length] as Kind;
    while (Date.now() < stopAt) await once(kind, n);
  }),
);
console.log(JSON.stringify({ statuses, slowBodyHeldMaxMs: Math.round(slowBodyHeldMaxMs) }));
