/**
 * The standalone simulator's command line: its flags (USAGE, shown by --help), their parsing,
 * and the account of what it serves that it prints on stderr once listening. A group listing
 * depends on include_subgroups and with_shared, so the account says how many projects each
 * combination returns: a client that reads fewer projects than --projects can see why.
 */
import type { AutoDisablePolicy } from "./gitlab-hooks.ts";
import type { SimState } from "./gitlab-state.ts";
import { ITEM_TYPES, type ItemType, itemKindOf } from "./iat-items.ts";

interface SimOptionsLike {
  [key: string]: unknown;
}

type Kind = "int" | "number" | "fraction" | "string" | "flag" | "policy";

/** flag -> [option name, kind, help]; the order is the order of --help. */
const FLAGS: Array<[string, string, Kind, string]> = [
  ["--projects", "projects", "int", "projects to seed (default 100)"],
  ["--port", "port", "int", "port to listen on, 127.0.0.1 (default 0: any free port)"],
  ["--token", "token", "string", "the one valid PRIVATE-TOKEN / Bearer token (default sim-token)"],
  ["--group-path", "groupPath", "string", "full path of the item group (default imrt/items)"],
  ["--subgroups", "subgroups", "int", "subgroups of the group (default 3)"],
  ["--subgroup-fraction", "subgroupFraction", "fraction", "share of projects in a subgroup (default 0.2)"],
  [
    "--shared-fraction",
    "sharedFraction",
    "fraction",
    "share of projects living in elsewhere/shared-items and shared into the group (default 0.05)",
  ],
  ["--archived-fraction", "archivedFraction", "fraction", "share of archived projects (default 0)"],
  [
    "--monitored-fraction",
    "monitoredFraction",
    "fraction",
    "share of projects with a hook to --webhook-url (default 0.5)",
  ],
  [
    "--webhook-url",
    "webhookUrl",
    "string",
    "the url of those hooks (default https://item-sync.example.org/webhooks/gitlab)",
  ],
  [
    "--other-hook-fraction",
    "otherHookFraction",
    "fraction",
    "share of projects with an unrelated CI hook (default 0.2)",
  ],
  [
    "--legacy-hook-fraction",
    "legacyHookFraction",
    "fraction",
    "share of projects with a hook of the replaced service (default 0)",
  ],
  [
    "--legacy-hook-url",
    "legacyHookUrl",
    "string",
    "that hook's url (default http://ap-imrt-iis-service/webHook)",
  ],
  ["--no-item-fraction", "noItemFraction", "fraction", "share of projects without item.json (default 0.02)"],
  [
    "--invalid-item-fraction",
    "invalidItemFraction",
    "fraction",
    "share of projects whose item.json at head is not a readable item (default 0)",
  ],
  [
    "--activity-throttle-ms",
    "activityThrottleMs",
    "int",
    "a push bumps last_activity_at only when it is older than this (default 3600000, GitLab's hour)",
  ],
  ["--latency-ms", "latencyMs", "int", "delay added before every answer (default 0)"],
  [
    "--rate-limit",
    "rateLimitRps",
    "number",
    "requests per second per token before 429 + Retry-After (default 0: none)",
  ],
  ["--fault-429", "fault429Rate", "fraction", "share of requests answered 429 at random (default 0)"],
  [
    "--fault-5xx",
    "fault5xxRate",
    "fraction",
    "share of requests answered --fault-5xx-status at random (default 0)",
  ],
  ["--fault-5xx-status", "fault5xxStatus", "int", "status of those answers (default 502)"],
  ["--drop", "dropRate", "fraction", "share of connections reset without an answer (default 0)"],
  ["--retry-after", "retryAfterSeconds", "int", "Retry-After of injected 429s, seconds (default 1)"],
  [
    "--new-connection-delay-ms",
    "newConnectionDelayMs",
    "int",
    "extra delay of the first request on a new connection (default 0)",
  ],
  ["--deliver-pushes", "deliverPushes", "flag", "POST a push event to the project's hooks on every push"],
  [
    "--hook-auto-disable",
    "hookAutoDisable",
    "policy",
    "gitlab-17.11 (default), gitlab-before-17.11 or off: how failing hooks get disabled",
  ],
  [
    "--hook-timeout-ms",
    "hookTimeoutMs",
    "int",
    "a hook delivery without an answer by then fails (default 10000)",
  ],
  [
    "--hook-test-rate-limit",
    "hookTestRateLimit",
    "int",
    "hook test requests per project a minute (default 5; 0: none)",
  ],
  [
    "--system-hook-url",
    "systemHookUrl",
    "string",
    "a system hook to register: project events are POSTed to it",
  ],
  ["--system-hook-token", "systemHookToken", "string", "its secret token (sent as X-Gitlab-Token)"],
];

export const USAGE = [
  "Usage: bun test/sim/gitlab.ts [flags]",
  "",
  "A GitLab REST API simulator serving an IMRT item group. Once listening it prints one JSON",
  'line {"url","token","group","groupId"} on stdout and what it serves on stderr.',
  "",
  ...FLAGS.map(([flag, , kind, help]) => {
    const arg =
      kind === "flag"
        ? ""
        : kind === "fraction"
          ? " F"
          : kind === "string"
            ? " S"
            : kind === "policy"
              ? " P"
              : " N";
    return `  ${`${flag}${arg}`.padEnd(30)}${help}`;
  }),
  `  ${"--help".padEnd(30)}this text`,
].join("\n");

/** The options of `argv`, or what is wrong with it. */
export function parseArgs(argv: string[]): { options: SimOptionsLike } | { error: string } {
  const options: SimOptionsLike = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? "";
    const spec = FLAGS.find(([f]) => f === flag);
    if (!spec) return { error: `unknown flag ${flag}` };
    const [, name, kind] = spec;
    if (kind === "flag") {
      options[name] = true;
      continue;
    }
    const raw = argv[++i];
    if (raw === undefined) return { error: `${flag} needs a value` };
    if (kind === "string") options[name] = raw;
    else if (kind === "policy") {
      const policies: AutoDisablePolicy[] = ["gitlab-17.11", "gitlab-before-17.11", "off"];
      if (!policies.includes(raw as AutoDisablePolicy))
        return { error: `${flag}: one of ${policies.join(", ")}` };
      options[name] = raw;
    } else {
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 0) return { error: `${flag}: not a number: ${raw}` };
      if (kind === "int" && !Number.isInteger(n)) return { error: `${flag}: not an integer: ${raw}` };
      if (kind === "fraction" && n > 1) return { error: `${flag}: a share between 0 and 1: ${raw}` };
      options[name] = n;
    }
  }
  return { options };
}

/** How the projects are spread over the group, its subgroups and the outside namespace. */
function counts(state: SimState) {
  const inSubgroups = new Set(state.subgroups.map((g) => g.id));
  const c = { total: state.projects.length, own: 0, subgroups: 0, shared: 0, archived: 0 };
  for (const p of state.projects) {
    if (p.namespaceId === state.group.id) c.own++;
    else if (inSubgroups.has(p.namespaceId)) c.subgroups++;
    if (p.sharedWith.includes(state.group.id)) c.shared++;
    if (p.archived) c.archived++;
  }
  return c;
}

/** What the simulator serves, for a human reading stderr. */
export function serveSummary(sim: {
  url: string;
  token: string;
  group: string;
  groupId: number;
  state: SimState;
}) {
  const { state } = sim;
  const c = counts(state);
  const g = state.seed.groupPath;
  const bank = {
    seededProjects: state.seed.projects,
    noItemFraction: state.seed.noItemFraction,
    invalidItemFraction: state.seed.invalidItemFraction,
  };
  const types = new Map<ItemType, number>();
  let none = 0;
  let invalid = 0;
  for (const p of state.projects) {
    const k = itemKindOf(p.id, bank);
    if (k.presence === "none") none++;
    else {
      if (k.presence === "invalid") invalid++;
      types.set(k.type, (types.get(k.type) ?? 0) + 1);
    }
  }
  const listing = `GET /api/v4/groups/${encodeURIComponent(g)}/projects`;
  return [
    `GitLab simulator at ${sim.url} (token ${sim.token}): group ${g}, id ${sim.groupId}`,
    `  ${c.total} projects: ${c.own} in ${g} itself, ${c.subgroups} in its ${state.subgroups.length} subgroups, ` +
      `${c.shared} in ${state.outside.fullPath} shared into it; ${c.archived} archived (listed unless archived=false)`,
    `  ${listing} returns`,
    `    ${String(c.own).padStart(7)}  with include_subgroups=false&with_shared=false (item-sync's defaults)`,
    `    ${String(c.own + c.shared).padStart(7)}  with neither parameter (GitLab: with_shared defaults to true)`,
    `    ${String(c.own + c.subgroups).padStart(7)}  with include_subgroups=true&with_shared=false`,
    `    ${String(c.own + c.subgroups + c.shared).padStart(7)}  with include_subgroups=true (with_shared left true)`,
    ...(c.own < c.total
      ? [
          `  so item-sync with its defaults (GITLAB_INCLUDE_SUBGROUPS=false, GITLAB_WITH_SHARED=false) reads ${c.own} of the ${c.total}; ` +
            `--subgroup-fraction 0 --shared-fraction 0 puts all ${c.total} in ${g} itself`,
        ]
      : []),
    `  items: ${ITEM_TYPES.map((t) => `${types.get(t) ?? 0} ${t}`).join(", ")}; ` +
      `${none} projects without item.json, ${invalid} with an unreadable one; 1-12 commits each (IAT histories)`,
  ].join("\n");
}
