/**
 * The replaced system's sync, re-created for S2 from its design: first fetch every project id
 * of the group (list pages one after the other), then for each project, one after another: ask
 * for its hooks, publish a monitor-item when ours is missing, publish an update-item — to a
 * durable queue, persistent, without publisher confirms. Runs in its own process like the
 * binary, and prints {"wallMs", "projects", "monitor", "sent", "update"} as JSON: `update` is the
 * number of update-items read back from the queue before it is deleted, `sent` what it published.
 *
 *   bun bench/replaced-sync.ts GITLAB_URL TOKEN GROUP AMQP_URL EXCHANGE QUEUE WEBHOOK_URL
 */
import { Connection } from "rabbitmq-client";

const [gitlab, token, group, amqpUrl, exchange, queue, webhookUrl] = process.argv.slice(2);
if (!gitlab || !token || !group || !amqpUrl || !exchange || !queue || !webhookUrl) {
  console.error(
    "usage: bun bench/replaced-sync.ts GITLAB_URL TOKEN GROUP AMQP_URL EXCHANGE QUEUE WEBHOOK_URL",
  );
  process.exit(2);
}
const api = `${gitlab}/api/v4`;
const headers = { "private-token": token };

async function get(path: string): Promise<{ body: unknown; next: string | null }> {
  const res = await fetch(`${api}${path}`, { headers });
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
  return { body: await res.json(), next: res.headers.get("x-next-page") || null };
}

const connection = new Connection({ url: amqpUrl });
await connection.exchangeDeclare({ exchange, type: "topic", durable: true });
await connection.queueDeclare({ queue, durable: true });
await connection.queueBind({ queue, exchange, routingKey: "item.*" });
const publisher = connection.createPublisher({ confirm: false });
const publish = (type: string, projectId: number) =>
  publisher.send(
    { exchange, routingKey: `item.${type.split("-")[0]}`, durable: true, contentType: "application/json" },
    { type, projectId, createdAt: new Date().toISOString() },
  );

const started = performance.now();
const ids: number[] = [];
for (let page: string | null = "1"; page !== null; ) {
  const r = await get(
    `/groups/${encodeURIComponent(group)}/projects?per_page=100&page=${page}&order_by=id&sort=asc`,
  );
  for (const p of r.body as Array<{ id: number }>) ids.push(p.id);
  page = r.next;
}
let monitor = 0;
let sent = 0;
for (const id of ids) {
  const { body } = await get(`/projects/${id}/hooks`);
  if (!(body as Array<{ url: string }>).some((h) => h.url === webhookUrl)) {
    await publish("monitor-item", id);
    monitor++;
  }
  await publish("update-item", id);
  sent++;
}
const wallMs = performance.now() - started;
await publisher.close();
// What reached the queue, read back from the broker before the queue is deleted (it holds the
// monitor-items too, routed by item.*): every message taken off and counted by its type. Without
// confirms the last publishes may still be on their way: read until nothing came for a while.
let update = 0;
let monitorQueued = 0;
const reader = connection.createConsumer(
  { queue, queueOptions: { passive: true }, qos: { prefetchCount: 1000 } },
  async (msg) => {
    const body = JSON.parse(Buffer.isBuffer(msg.body) ? msg.body.toString("utf8") : JSON.stringify(msg.body));
    if ((body as { type?: string }).type === "update-item") update++;
    else monitorQueued++;
  },
);
for (let quiet = 0, last = -1; quiet < 10; await Bun.sleep(50)) {
  const seen = update + monitorQueued;
  quiet = seen === last ? quiet + 1 : 0;
  last = seen;
}
await reader.close();
await connection.queueDelete({ queue }).catch(() => {});
await connection.exchangeDelete({ exchange }).catch(() => {});
await connection.close();
console.log(JSON.stringify({ wallMs, projects: ids.length, monitor, sent, update }));
