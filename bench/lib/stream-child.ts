/**
 * Child process of bench/stream-memory.ts: streams every project of the group through the real
 * GitLab client and prints one JSON line with the count, pages and this process's peak RSS.
 * Usage: bun bench/lib/stream-child.ts URL TOKEN GROUP
 */
import { createGitlabClient } from "../../src/gitlab/client.ts";
import { silentLogger } from "../../src/lib/log.ts";

const [url = "", token = "", group = ""] = process.argv.slice(2);
const client = createGitlabClient(
  {
    url,
    token,
    group,
    includeSubgroups: true,
    withShared: true,
    ignoreProjects: [],
    concurrency: 8,
    maxRps: 0,
    timeoutMs: 30_000,
    webhookUrl: "https://item-sync.example.org/webhooks/gitlab",
    webhookSecret: "",
  },
  { logger: silentLogger },
);

let projects = 0;
let pages = 0;
let lastId = 0;
const started = performance.now();
for await (const page of client.projectSource(100).pages()) {
  pages++;
  for (const p of page.projects) {
    if (p.id <= lastId) throw new Error(`out of order: ${p.id} after ${lastId}`);
    lastId = p.id;
    projects++;
  }
}
console.log(
  JSON.stringify({
    projects,
    pages,
    seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
    peakRssMb: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)), // maxRSS is in KiB
  }),
);
