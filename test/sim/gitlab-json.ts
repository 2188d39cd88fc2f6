/**
 * GitLab's JSON shapes and offset-pagination headers, as the REST API documentation describes
 * them, for the simulator's routes. Field names are GitLab's (snake_case).
 */
import { alertStatus } from "./gitlab-hooks.ts";
import type { SimCommit, SimHook, SimProject, SimState, SimSystemHook } from "./gitlab-state.ts";

export const MAX_COUNTED_ROWS = 10_000; // past this GitLab omits x-total and x-total-pages

export function projectJson(state: SimState, base: string, p: SimProject, simple: boolean) {
  const ns = state.namespaces.get(p.namespaceId);
  const fullPath = state.fullPathOf(p);
  const webUrl = `${base}/${fullPath}`;
  const minimal = {
    id: p.id,
    description: null,
    name: p.name,
    name_with_namespace: `${ns?.fullPath.split("/").join(" / ")} / ${p.name}`,
    path: p.path,
    path_with_namespace: fullPath,
    created_at: p.createdAt,
    default_branch: p.defaultBranch,
    tag_list: [],
    topics: [],
    ssh_url_to_repo: `git@sim.invalid:${fullPath}.git`,
    http_url_to_repo: `${webUrl}.git`,
    web_url: webUrl,
    readme_url: null,
    forks_count: 0,
    avatar_url: null,
    star_count: 0,
    last_activity_at: p.lastActivityAt,
    namespace: {
      id: ns?.id ?? 0,
      name: ns?.name ?? "",
      path: ns?.path ?? "",
      kind: "group",
      full_path: ns?.fullPath ?? "",
      parent_id: ns?.parentId ?? null,
      avatar_url: null,
      web_url: `${base}/groups/${ns?.fullPath ?? ""}`,
    },
  };
  if (simple) return minimal;
  return {
    ...minimal,
    visibility: "private",
    archived: p.archived,
    empty_repo: false,
    issues_enabled: true,
    merge_requests_enabled: true,
    wiki_enabled: false,
    jobs_enabled: true,
    snippets_enabled: false,
    resolve_outdated_diff_discussions: false,
    container_registry_enabled: false,
    creator_id: 1,
    import_status: "none",
    open_issues_count: 0,
    shared_runners_enabled: true,
    shared_with_groups: p.sharedWith.map((gid) => {
      const g = state.namespaces.get(gid);
      return { group_id: gid, group_name: g?.name, group_full_path: g?.fullPath, group_access_level: 30 };
    }),
    only_allow_merge_if_pipeline_succeeds: false,
    request_access_enabled: false,
    _links: {
      self: `${base}/api/v4/projects/${p.id}`,
      issues: `${base}/api/v4/projects/${p.id}/issues`,
      repo_branches: `${base}/api/v4/projects/${p.id}/repository/branches`,
    },
  };
}

/**
 * A project hook as "Get a project webhook" shows it (docs.gitlab.com/api/project_webhooks/):
 * never its token; its health as `alert_status` (executable, temporarily_disabled, disabled)
 * and `disabled_until` (set while and after a temporary disabling, null otherwise).
 */
export function hookJson(h: SimHook, now: number) {
  return {
    id: h.id,
    url: h.url,
    name: "",
    description: "",
    project_id: h.projectId,
    push_events: h.pushEvents,
    push_events_branch_filter: "",
    branch_filter_strategy: "wildcard",
    issues_events: false,
    confidential_issues_events: false,
    merge_requests_events: false,
    tag_push_events: false,
    note_events: false,
    confidential_note_events: false,
    job_events: false,
    pipeline_events: false,
    wiki_page_events: false,
    deployment_events: false,
    feature_flag_events: false,
    releases_events: false,
    resource_access_token_events: false,
    repository_update_events: false,
    enable_ssl_verification: h.enableSslVerification,
    alert_status: alertStatus(h, now),
    disabled_until: h.disabledUntil === null ? null : new Date(h.disabledUntil).toISOString(),
    url_variables: [],
    custom_headers: [],
    created_at: h.createdAt,
  };
}

/** A system hook as GET /hooks lists it (docs.gitlab.com/api/system_hooks/). */
export function systemHookJson(h: SimSystemHook) {
  return {
    id: h.id,
    url: h.url,
    name: "",
    description: "",
    created_at: h.createdAt,
    push_events: false,
    tag_push_events: false,
    merge_requests_events: false,
    repository_update_events: false,
    enable_ssl_verification: true,
    alert_status: "executable",
    disabled_until: null,
    url_variables: [],
  };
}

/**
 * A commit as "List repository commits" shows it (docs.gitlab.com/api/commits/): `short_id` is
 * git's 11-character abbreviation, `created_at` repeats the committed date, `trailers` and
 * `extended_trailers` are empty (IAT writes none).
 */
export function commitJson(base: string, projectPath: string, c: SimCommit) {
  return {
    id: c.id,
    short_id: c.id.slice(0, 11),
    created_at: c.committedDate,
    parent_ids: c.parentIds,
    title: c.title,
    message: c.message,
    author_name: c.authorName,
    author_email: c.authorEmail,
    authored_date: c.authoredDate,
    committer_name: c.committerName,
    committer_email: c.committerEmail,
    committed_date: c.committedDate,
    trailers: {},
    extended_trailers: {},
    web_url: `${base}/${projectPath}/-/commit/${c.id}`,
  };
}

/** "Get a single commit": the list fields plus `stats` (on by default), `status`, `last_pipeline`. */
export function singleCommitJson(
  base: string,
  p: SimProject,
  projectPath: string,
  c: SimCommit,
  stats: { additions: number; deletions: number; total: number } | null,
) {
  return {
    ...commitJson(base, projectPath, c),
    ...(stats ? { stats } : {}),
    status: null,
    last_pipeline: null,
    project_id: p.id,
  };
}

/** One page of `rows` plus GitLab's offset-pagination headers (x-*, Link). */
export function paginate<T>(url: URL, rows: readonly T[]): { page: T[]; headers: Record<string, string> } {
  const perPageRaw = Number(url.searchParams.get("per_page") ?? "20");
  const perPage = Number.isInteger(perPageRaw) && perPageRaw > 0 ? Math.min(perPageRaw, 100) : 20;
  const pageRaw = Number(url.searchParams.get("page") ?? "1");
  const page = Number.isInteger(pageRaw) && pageRaw > 0 ? pageRaw : 1;
  const start = (page - 1) * perPage;
  const slice = rows.slice(start, start + perPage);
  const hasNext = rows.length > start + perPage;
  const counted = rows.length <= MAX_COUNTED_ROWS;
  const totalPages = Math.max(1, Math.ceil(rows.length / perPage));

  const link = (p: number) => {
    const u = new URL(url);
    u.searchParams.set("page", String(p));
    u.searchParams.set("per_page", String(perPage));
    return u.toString();
  };
  const links: string[] = [];
  if (page > 1) links.push(`<${link(page - 1)}>; rel="prev"`);
  if (hasNext) links.push(`<${link(page + 1)}>; rel="next"`);
  links.push(`<${link(1)}>; rel="first"`);
  if (counted) links.push(`<${link(totalPages)}>; rel="last"`);

  const headers: Record<string, string> = {
    "x-page": String(page),
    "x-per-page": String(perPage),
    "x-next-page": hasNext ? String(page + 1) : "",
    "x-prev-page": page > 1 ? String(page - 1) : "",
    link: links.join(", "),
  };
  if (counted) {
    headers["x-total"] = String(rows.length);
    headers["x-total-pages"] = String(totalPages);
  }
  return { page: slice, headers };
}
