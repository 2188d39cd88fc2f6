/**
 * The replaced ingest service's update-item, re-created for S10 from its design, for the GitLab
 * requests it makes (it writes no table: only the requests are compared). Per project, on the
 * default branch (the old service hard-coded `master`; the simulator's branch is used instead):
 *
 *   1. existence check: item.json at the branch head, the head commit, the `create` file;
 *   2. the branch's commits since the stored commit date (1970 on a first ingest), pages of 100;
 *      the stored commit itself, listed again (`since` is inclusive), is dropped;
 *   3. replay, oldest first: for every listed commit, item.json read again at the branch head and
 *      the `create` file checked again — one item.json read per commit.
 *
 * So a first ingest of n commits costs 3 + ⌈n/100⌉ + 2n requests. Projects are handled by
 * `concurrency` consumers (the old default: 3), each one project at a time.
 *
 *   bun bench/replaced-ingest.ts GITLAB_URL TOKEN PROJECT_ID:BRANCH …   (a first ingest of each)
 */

export interface ReplacedTarget {
  projectId: number;
  branch: string;
  /** `item_git.current_commit_date` and hash of the stored row; absent on a first ingest */
  stored?: { commitDate: string; commitHash: string };
}

export interface ReplacedResult {
  projects: number;
  commitsReplayed: number;
  /** requests this client sent (the simulator counts them independently) */
  requestsSent: number;
}

export async function replacedIngest(opts: {
  gitlabUrl: string;
  token: string;
  targets: ReplacedTarget[];
  concurrency?: number;
}): Promise<ReplacedResult> {
  const api = `${opts.gitlabUrl}/api/v4`;
  const headers = { "private-token": opts.token };
  let requestsSent = 0;
  let commitsReplayed = 0;

  /** A GET that must answer 200. */
  async function get(path: string): Promise<Response> {
    requestsSent++;
    const res = await fetch(`${api}${path}`, { headers });
    if (res.status !== 200) throw new Error(`replaced ingest: GET ${path}: ${res.status}`);
    return res;
  }
  /** A file at the branch head, or null when GitLab answers 404. */
  async function file(t: ReplacedTarget, path: string): Promise<string | null> {
    requestsSent++;
    const res = await fetch(
      `${api}/projects/${t.projectId}/repository/files/${encodeURIComponent(path)}?ref=${encodeURIComponent(t.branch)}`,
      { headers },
    );
    if (res.status === 404) {
      await res.arrayBuffer();
      return null;
    }
    if (res.status !== 200) throw new Error(`replaced ingest: ${path} of ${t.projectId}: ${res.status}`);
    return Buffer.from(((await res.json()) as { content: string }).content, "base64").toString("utf8");
  }

  async function updateItem(t: ReplacedTarget) {
    // 1. existence check: item.json (parsed), the head commit, the create file
    const item = await file(t, "item.json");
    if (item === null) return; // no item.json: nothing written
    JSON.parse(item);
    await (await get(`/projects/${t.projectId}/repository/commits/${encodeURIComponent(t.branch)}`)).json();
    await file(t, "create");
    // 2. the commits since the stored date, oldest first, the stored one dropped
    const since = t.stored?.commitDate ?? "1970-01-01T00:00:00Z";
    const listed: Array<{ id: string }> = [];
    for (let page: string | null = "1"; page; ) {
      const res = await get(
        `/projects/${t.projectId}/repository/commits?ref_name=${encodeURIComponent(t.branch)}&since=${encodeURIComponent(since)}&per_page=100&page=${page}`,
      );
      listed.push(...((await res.json()) as Array<{ id: string }>));
      page = res.headers.get("x-next-page") || null;
    }
    listed.reverse();
    if (t.stored && listed[0]?.id === t.stored.commitHash) listed.shift();
    // 3. replay: item.json and the create file read again at the head, per commit
    for (const _commit of listed) {
      const again = await file(t, "item.json");
      if (again === null) throw new Error(`replaced ingest: item.json of ${t.projectId} vanished`);
      JSON.parse(again);
      await file(t, "create");
      commitsReplayed++;
    }
  }

  const queue = [...opts.targets];
  const consumers = Array.from({ length: Math.max(1, opts.concurrency ?? 3) }, async () => {
    for (let t = queue.shift(); t; t = queue.shift()) await updateItem(t);
  });
  await Promise.all(consumers);
  return { projects: opts.targets.length, commitsReplayed, requestsSent };
}

if (import.meta.main) {
  const [gitlabUrl, token, ...specs] = process.argv.slice(2);
  if (!gitlabUrl || !token || specs.length === 0) {
    console.error(
      "usage: bun bench/replaced-ingest.ts GITLAB_URL TOKEN PROJECT_ID:BRANCH …  (a first ingest of each)",
    );
    process.exit(2);
  }
  const targets = specs.map((s): ReplacedTarget => {
    const [id, branch] = s.split(":");
    if (!id || !branch || !/^[0-9]+$/.test(id)) {
      console.error(`replaced-ingest: not PROJECT_ID:BRANCH: ${s}`);
      process.exit(2);
    }
    return { projectId: Number(id), branch };
  });
  console.log(JSON.stringify(await replacedIngest({ gitlabUrl, token, targets })));
}
