// item-sync dashboard. Plain browser JavaScript, no framework and no build step: the binary
// serves this file as it is. Every figure comes from the protected API (and /metrics); the page
// only decides how to show it. DOM is built with textContent, never innerHTML.

const TOKEN_KEY = "item-sync.token";
const PKCE_KEY = "item-sync.pkce";
const ACTIVE = ["STARTING", "STARTED", "STOPPING"];
const HISTORY_LIMIT = 20;
const FAST_POLL_MS = 1000; // at most once a second, and only while a run is active or shown
const SLOW_POLL_MS = 5000;
const RATE_WINDOW_MS = 15000;

const $ = (id) => document.getElementById(id);

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  config: { oauth: null },
  current: null, // newest execution (detail form when active)
  samples: [], // { t, handled, requests, limited, waited } for rates
  estimate: null, // { runId, handled } of the newest COMPLETED run, as a total estimate
  history: { status: "", before: null, stack: [], lastKey: "", lastAt: 0 },
  detailId: null,
  // The signed-in token's role, from the API's x-item-sync-role header: the page offers only
  // what it may do (read < operate < admin).
  role: null,
  items: { q: "", stale: false, cursor: null },
  timer: 0,
};

// ---------- small helpers ----------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const fmtInt = (n) => (typeof n === "number" && Number.isFinite(n) ? Math.round(n).toLocaleString() : "—");
const fmtRate = (n) =>
  n === null || !Number.isFinite(n) ? "—" : `${n < 10 ? n.toFixed(1) : Math.round(n)}/s`;

function fmtTime(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

function fmtDuration(ms) {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return "—";
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

function runDuration(e) {
  if (!e.startTime) return null;
  const end = e.endTime ? Date.parse(e.endTime) : Date.now();
  return end - Date.parse(e.startTime);
}

const badge = (status) => el("span", { class: `badge s-${status}`, text: status });

function figures(target, pairs) {
  target.replaceChildren(
    ...pairs.map(([label, value]) => el("div", {}, el("dt", { text: label }), el("dd", { text: value }))),
  );
}

// ---------- API ----------

class SignedOut extends Error {}

async function api(method, path) {
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${state.token}`, accept: "application/json" },
    });
  } catch (err) {
    return {
      status: 0,
      body: { error: { code: "NETWORK", message: `the service did not answer (${err})` } },
    };
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  const role = res.headers.get("x-item-sync-role");
  if (role && role !== state.role) applyRole(role);
  // 403 FORBIDDEN: a valid token lacking the role for this one call; it stays signed in.
  if (res.status === 401 || (res.status === 403 && body?.error?.code !== "FORBIDDEN")) {
    signOut(`${res.status} ${errorText(body) || "the token was refused"}`);
    throw new SignedOut();
  }
  return { status: res.status, body };
}

const ROLE_ORDER = ["read", "operate", "admin"];
const may = (need) => ROLE_ORDER.indexOf(state.role ?? "read") >= ROLE_ORDER.indexOf(need);

/** Hides the controls the role may not use (the API refuses them anyway, with 403). */
function applyRole(role) {
  state.role = role;
  for (const id of ["start", "stop", "reset"]) $(id).hidden = !may("operate");
  $("fresh").closest("label").hidden = !may("operate");
  $("allow-mass-delete").closest("label").hidden = !may("admin");
  if (!may("admin")) $("allow-mass-delete").checked = false;
  for (const b of document.querySelectorAll("[data-role]")) b.hidden = !may(b.dataset.role);
}

const errorText = (body) => (body?.error ? `${body.error.code}: ${body.error.message}` : "");

/** Sums every sample of each metric name, whatever its labels; tolerant of renames (below). */
function parseMetrics(text) {
  const sums = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([A-Za-z_:][\w:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const value = Number(m[2]);
    if (Number.isFinite(value)) sums.set(m[1], (sums.get(m[1]) ?? 0) + value);
  }
  const pick = (...names) => names.map((n) => sums.get(n)).find((v) => v !== undefined) ?? null;
  return {
    requests: pick(
      "item_sync_gitlab_requests_total",
      "item_sync_gitlab_requests",
      "item_sync_gitlab_request_duration_seconds_count",
    ),
    limited: pick("item_sync_gitlab_rate_limited_total", "item_sync_gitlab_rate_limited"),
    waited: pick(
      "item_sync_gitlab_rate_limit_wait_seconds_total",
      "item_sync_gitlab_rate_limit_wait_seconds_sum",
      "item_sync_gitlab_rate_limit_wait_seconds",
    ),
    items: pick("item_sync_items"),
    // this replica's ingest workers: our hooks found disabled by GitLab, and re-enabled
    hooksDisabled: pick("item_sync_ingest_hooks_disabled_total"),
    hooksReenabled: pick("item_sync_ingest_hooks_reenabled_total"),
  };
}

async function readMetrics() {
  try {
    // with METRICS_PORT set, the API port serves /metrics to bearers of a token only
    const res = await fetch("/metrics", {
      headers: { accept: "text/plain", authorization: `Bearer ${state.token}` },
    });
    if (!res.ok) return null;
    const text = await res.text();
    return { ...parseMetrics(text), text };
  } catch {
    return null;
  }
}

// ---------- sign-in ----------

function showSignedIn(signedIn) {
  $("sign-in").hidden = signedIn;
  $("app").hidden = !signedIn;
  $("nav").hidden = !signedIn;
  $("sign-out").hidden = !signedIn;
}

function signOut(message) {
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  clearTimeout(state.timer);
  showSignedIn(false);
  $("sign-in-error").textContent = message ?? "";
  $("token").focus();
}

async function signIn(token) {
  state.token = token;
  // The API decides: a token is kept only once a protected route accepted it.
  const { status, body } = await api("GET", "/jobs?limit=1").catch((err) => {
    if (err instanceof SignedOut) return { status: 401, body: null };
    throw err;
  });
  if (status !== 200) {
    if (status !== 401) signOut(`${status || "no answer"} ${errorText(body)}`);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $("sign-in-error").textContent = "";
  showSignedIn(true);
  route();
}

const base64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

function randomString(bytes) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

const redirectUri = () => `${location.origin}/`;

async function startOAuth() {
  const oauth = state.config.oauth;
  const verifier = randomString(48);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const stateParam = randomString(24);
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state: stateParam }));
  const url = new URL(oauth.authorizeUrl);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", oauth.clientId);
  url.searchParams.set("redirect_uri", redirectUri());
  url.searchParams.set("code_challenge", challenge);
  url.searchParams.set("code_challenge_method", "S256");
  url.searchParams.set("state", stateParam);
  location.assign(url.toString());
}

/** Back from the provider with ?code=&state= (or ?error=): exchange the code, clean the URL. */
async function finishOAuth(params) {
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) ?? "null");
  sessionStorage.removeItem(PKCE_KEY);
  history.replaceState(null, "", "/");
  if (params.get("error")) {
    signOut(`sign-in refused: ${params.get("error")} ${params.get("error_description") ?? ""}`);
    return;
  }
  if (!saved || saved.state !== params.get("state") || !state.config.oauth) {
    signOut("sign-in failed: the answer does not belong to a sign-in started here; try again");
    return;
  }
  try {
    const res = await fetch(state.config.oauth.tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: params.get("code") ?? "",
        redirect_uri: redirectUri(),
        client_id: state.config.oauth.clientId,
        code_verifier: saved.verifier,
      }),
    });
    const body = await res.json().catch(() => null);
    if (!res.ok || typeof body?.access_token !== "string") {
      signOut(`sign-in failed: the token endpoint answered ${res.status} ${body?.error ?? ""}`);
      return;
    }
    await signIn(body.access_token);
  } catch (err) {
    signOut(`sign-in failed: the token endpoint could not be reached (${err})`);
  }
}

// ---------- current run ----------

/** Projects fully handled: each gets exactly one update-item (or, when present, is left unchanged). */
function handledOf(c) {
  return (c?.updatePublished ?? 0) + (c?.unchanged ?? 0);
}

function totalOf(e) {
  const ctx = e.step?.context ?? {};
  for (const v of [ctx.total, ctx.projectsTotal, e.counts?.total]) {
    if (typeof v === "number" && v > 0) return { value: v, exact: true };
  }
  if (state.estimate && state.estimate.runId !== e.id && state.estimate.handled > 0) {
    return { value: state.estimate.handled, exact: false };
  }
  return null;
}

function rateOf(key) {
  const s = state.samples;
  if (s.length < 2) return null;
  const first = s[0];
  const last = s[s.length - 1];
  if (first[key] === null || last[key] === null || last.t <= first.t) return null;
  return ((last[key] - first[key]) * 1000) / (last.t - first.t);
}

function renderCurrent() {
  const e = state.current;
  const bar = $("progress");
  const fill = $("progress-fill");
  if (!e) {
    $("current-status").replaceChildren("—");
    $("current-summary").textContent = "No run yet. Start one below.";
    $("progress-label").textContent = "";
    bar.classList.remove("indeterminate", "done");
    fill.style.width = "0";
    $("current-figures").replaceChildren();
    $("stop").disabled = true;
    $("reset").disabled = true;
    return;
  }
  const active = ACTIVE.includes(e.status);
  const c = e.counts ?? {};
  // progress is projects fully handled (hooks checked, update-item confirmed), not read ahead
  // a resumed run continues through the listing: what the runs it resumes handled counts too
  const before = typeof e.step?.context?.handledBefore === "number" ? e.step.context.handledBefore : 0;
  const done = handledOf(c) + before;
  const total = totalOf(e);
  const rate = active ? rateOf("handled") : null;
  $("current-status").replaceChildren(badge(e.status));
  $("current-summary").replaceChildren(
    el("a", { href: `#/runs/${e.id}`, text: `Run #${e.id}` }),
    ` · ${e.trigger}${e.launchedBy ? ` by ${e.launchedBy}` : ""}${e.mode ? ` · ${e.mode}` : ""} · started ${fmtTime(e.startTime)} · ${fmtDuration(runDuration(e))}`,
    e.runner ? ` · on ${e.runner}` : "",
    e.exitMessage ? ` · ${e.exitMessage}` : "",
  );

  let percent = null;
  let label;
  if (e.status === "COMPLETED") {
    percent = 100;
    label = `${fmtInt(done)} projects handled — complete`;
  } else if (total) {
    const shownTotal = Math.max(total.value, done);
    percent = Math.min(100, (100 * done) / shownTotal);
    const eta = rate && rate > 0 ? fmtDuration(((shownTotal - done) / rate) * 1000) : "—";
    label =
      `${fmtInt(done)} / ${total.exact ? "" : "≈"}${fmtInt(shownTotal)} projects handled (${Math.floor(percent)}%)` +
      (active ? ` · ${fmtRate(rate)} · ETA ${eta}` : "") +
      (total.exact ? "" : ` · total estimated from run #${state.estimate.runId}`);
  } else {
    label = `${fmtInt(done)} projects handled${active ? ` · ${fmtRate(rate)} · total unknown (GitLab does not count past 10,000)` : ""}`;
  }
  // a new run starts from empty at once; within a run the bar moves smoothly
  fill.style.transition = bar.dataset.run === String(e.id) ? "" : "none";
  bar.dataset.run = String(e.id);
  bar.classList.toggle("indeterminate", percent === null && active);
  bar.classList.toggle("done", e.status === "COMPLETED");
  fill.style.width = percent === null ? "" : `${percent}%`;
  if (percent === null) {
    bar.removeAttribute("aria-valuenow");
    bar.setAttribute("aria-valuetext", label);
  } else {
    bar.setAttribute("aria-valuenow", String(Math.floor(percent)));
    bar.setAttribute("aria-valuetext", label);
  }
  $("progress-label").textContent = label;

  const last = state.samples[state.samples.length - 1];
  const pairs = [
    ["Read", fmtInt(c.read)],
    ["Hooks checked", fmtInt(c.hooksChecked)],
    ["Monitor published", fmtInt(c.monitorPublished)],
    ["Update published", fmtInt(c.updatePublished)],
    ["Unchanged", fmtInt(c.unchanged)],
    ["Delete published", fmtInt(c.deletePublished)],
    ["Skipped", fmtInt(c.skipped)],
  ];
  if (active) {
    pairs.push(
      ["GitLab requests", fmtRate(rateOf("requests"))],
      ["GitLab 429s (replica total)", last?.limited === null || !last ? "—" : fmtInt(last.limited)],
      ["429 waits (replica total)", last?.waited === null || !last ? "—" : fmtDuration(last.waited * 1000)],
      [
        "Hooks found disabled / re-enabled (replica total)",
        last?.hooksDisabled == null ? "—" : `${fmtInt(last.hooksDisabled)} / ${fmtInt(last.hooksReenabled)}`,
      ],
    );
  }
  figures($("current-figures"), pairs);
  $("stop").disabled = !active || e.status === "STOPPING";
  $("reset").disabled = !active;
}

async function refreshCurrent() {
  const { body } = await api("GET", "/jobs?limit=1");
  let e = body?.jobs?.[0] ?? null;
  let metrics = null;
  if (e && ACTIVE.includes(e.status)) {
    let detail;
    [detail, metrics] = await Promise.all([api("GET", `/jobs/${e.id}`), readMetrics()]);
    if (detail.status === 200) e = detail.body;
    if (state.current?.id !== e.id) state.samples = [];
    state.samples.push({
      t: Date.now(),
      handled: handledOf(e.counts),
      requests: metrics?.requests ?? null,
      limited: metrics?.limited ?? null,
      waited: metrics?.waited ?? null,
      hooksDisabled: metrics?.hooksDisabled ?? null,
      hooksReenabled: metrics?.hooksReenabled ?? null,
    });
    while (state.samples.length > 2 && Date.now() - state.samples[0].t > RATE_WINDOW_MS)
      state.samples.shift();
    if (!state.estimate || state.estimate.runId === e.id) await loadEstimate(e.id);
  } else if (ItemSyncCharts.watching(e)) {
    metrics = await readMetrics(); // the run ended; its charts follow the queues until they drain
  }
  state.current = e;
  renderCurrent();
  ItemSyncCharts.sample(e, metrics?.text ?? null);
  return e;
}

/** The newest COMPLETED run's projects handled: a fair guess at the total while GitLab gives none. */
async function loadEstimate(currentId) {
  const { body } = await api("GET", "/jobs?status=COMPLETED&limit=1");
  const done = body?.jobs?.[0];
  state.estimate = done && done.id !== currentId ? { runId: done.id, handled: handledOf(done.counts) } : null;
}

// ---------- actions ----------

function showAnswer(text, ok, extra) {
  $("answer").replaceChildren(el("p", { class: ok ? "" : "bad" }, text, extra ?? null));
}

function explain(status, body) {
  if (status === 409 && body?.error?.code === "JOB_ALREADY_RUNNING") {
    return `409 — not started: ${body.error.message}.`;
  }
  if (body?.error) return `${status} ${body.error.code} — ${body.error.message}`;
  return `${status}`;
}

async function startSync() {
  const params = new URLSearchParams();
  if ($("fresh").checked) params.set("fresh", "true");
  if ($("allow-mass-delete").checked) params.set("allowMassDelete", "true");
  if ($("mode").value) params.set("mode", $("mode").value);
  const qs = params.toString();
  const { status, body } = await api("POST", `/sync${qs ? `?${qs}` : ""}`);
  if (status === 202) {
    showAnswer(`202 — run #${body.id} started (${body.status}).`, true);
  } else if (body?.runningJobId) {
    showAnswer(explain(status, body), false, [
      " ",
      el("a", { href: `#/runs/${body.runningJobId}`, text: `Open run #${body.runningJobId}` }),
    ]);
  } else {
    showAnswer(explain(status, body), false);
  }
  await poll();
}

async function stopRun(id) {
  const { status, body } = await api("POST", `/jobs/${id}/stop`);
  showAnswer(
    status < 300 ? `${status} — run #${id} asked to stop (${body.status}).` : explain(status, body),
    status < 300,
  );
  await poll();
}

async function resetRun(id, force) {
  const { status, body } = await api("POST", `/jobs/${id}/reset${force ? "?force=true" : ""}`);
  if (status < 300) {
    showAnswer(`${status} — run #${id} marked ${body.status}.`, true);
  } else if (body?.error?.code === "JOB_HEARTBEAT_FRESH" && may("admin")) {
    const force = el("button", {
      type: "button",
      class: "warn",
      text: `Force reset #${id}`,
      onclick: () => {
        const sure = confirm(
          `Run #${id} still has a fresh heartbeat: it may really be running on some replica.\n` +
            "Force it to ABANDONED anyway?",
        );
        if (sure) resetRun(id, true);
      },
    });
    showAnswer(`${explain(status, body)} `, false, force);
  } else {
    showAnswer(explain(status, body), false);
  }
  await poll();
}

// ---------- history ----------

async function refreshHistory() {
  const h = state.history;
  const params = new URLSearchParams({ limit: String(HISTORY_LIMIT) });
  if (h.status) params.set("status", h.status);
  if (h.before) params.set("before", String(h.before));
  const { status, body } = await api("GET", `/jobs?${params}`);
  h.lastAt = Date.now();
  const tbody = $("history").tBodies[0];
  if (status !== 200) {
    tbody.replaceChildren(
      el("tr", {}, el("td", { colspan: 12, class: "error", text: explain(status, body) })),
    );
    return;
  }
  // the running execution's live counts come from its own detail, fetched each second
  const jobs = body.jobs.map((e) => (state.current?.id === e.id ? state.current : e));
  tbody.replaceChildren(
    ...(jobs.length === 0 ? [el("tr", {}, el("td", { colspan: 12, class: "muted", text: "No runs." }))] : []),
    ...jobs.map((e) =>
      el(
        "tr",
        { "data-id": e.id },
        el("td", {}, el("a", { href: `#/runs/${e.id}`, text: `#${e.id}` })),
        el("td", {}, badge(e.status)),
        el("td", { class: "hide-narrow", text: e.trigger }),
        el("td", { class: "hide-narrow", text: e.mode ?? "—" }),
        el("td", { text: fmtTime(e.startTime) }),
        el("td", { text: fmtDuration(runDuration(e)) }),
        el("td", { text: fmtInt(e.counts?.read) }),
        el("td", { class: "hide-narrow", text: fmtInt(e.counts?.updatePublished) }),
        el("td", { class: "hide-narrow", text: fmtInt(e.counts?.unchanged) }),
        el("td", { class: "hide-narrow", text: fmtInt(e.counts?.monitorPublished) }),
        el("td", { class: "hide-narrow", text: fmtInt(e.counts?.skipped) }),
        el("td", { class: "msg", title: e.exitMessage || null, text: (e.exitMessage ?? "").slice(0, 200) }),
      ),
    ),
  );
  $("newer").disabled = h.stack.length === 0 && !h.before;
  $("older").disabled = jobs.length < HISTORY_LIMIT;
  h.lastIds = jobs.map((e) => e.id);
}

// ---------- one run ----------

async function refreshDetail() {
  const id = state.detailId;
  const { status, body } = await api("GET", `/jobs/${id}`);
  if (id !== state.detailId) return;
  $("detail").hidden = false;
  $("detail-title").textContent = `Run #${id}`;
  const target = $("detail-body");
  if (status !== 200) {
    target.replaceChildren(el("p", { class: "error", text: explain(status, body) }));
    return;
  }
  const e = body;
  const step = e.step;
  const ctx = step?.context ?? {};
  const parts = [
    runFigures(e),
    e.exitMessage ? el("p", {}, el("strong", { text: "Exit message: " }), e.exitMessage) : null,
    el("h3", { text: "Parameters" }),
    el("pre", { text: JSON.stringify(e.params ?? {}, null, 2) }),
    el("h3", { text: "Step" }),
    step
      ? el(
          "p",
          {},
          `${step.name} · `,
          badge(step.status),
          ` · ${fmtInt(step.commitCount)} checkpoints committed · scan ${ctx.scanComplete ? "complete" : "not complete"}`,
        )
      : el("p", { class: "muted", text: "No step yet." }),
    el("h3", { text: "Checkpoint" }),
    el("pre", {
      text: ctx.checkpoint ? JSON.stringify(ctx.checkpoint, null, 2) : "none (from the first page)",
    }),
    ...skippedSection(ctx),
    runActions(e),
  ];
  const trace = ItemSyncCharts.traceLink(e);
  if (trace) parts.splice(1, 0, el("p", {}, trace));
  target.replaceChildren(...parts.filter((part) => part !== null));
}

/** A run's status, times and counts. */
function runFigures(e) {
  const dl = el("dl", { class: "figures" });
  figures(dl, [
    ["Status", e.status],
    ["Exit code", e.exitCode],
    ["Trigger", e.trigger],
    ["Mode", e.mode ?? "—"],
    ["Launched by", e.launchedBy ?? "—"],
    ["Restart of", e.restartOf ? `#${e.restartOf}` : "—"],
    ["Runner (host/pod)", e.runner ?? "—"],
    ["Created", fmtTime(e.createTime)],
    ["Started", fmtTime(e.startTime)],
    ["Ended", fmtTime(e.endTime)],
    ["Duration", fmtDuration(runDuration(e))],
    ["Last updated", fmtTime(e.lastUpdated)],
    ["Read", fmtInt(e.counts?.read)],
    ["Hooks checked", fmtInt(e.counts?.hooksChecked)],
    ["Monitor published", fmtInt(e.counts?.monitorPublished)],
    ["Hooks adopted", fmtInt(e.counts?.hooksAdopted)],
    ["Update published", fmtInt(e.counts?.updatePublished)],
    ["Unchanged", fmtInt(e.counts?.unchanged)],
    ["Delete published", fmtInt(e.counts?.deletePublished)],
    ["Skipped", fmtInt(e.counts?.skipped)],
  ]);
  return dl;
}

/** The skipped projects of a run's step context: a heading and a table of the first 500. */
function skippedSection(ctx) {
  const skipped = Array.isArray(ctx.skipped) ? ctx.skipped : [];
  const header = el(
    "thead",
    {},
    el(
      "tr",
      {},
      el("th", { scope: "col", text: "Project" }),
      el("th", { scope: "col", text: "Path" }),
      el("th", { scope: "col", text: "Reason" }),
    ),
  );
  const rows = skipped
    .slice(0, 500)
    .map((s) =>
      el(
        "tr",
        {},
        el("td", { text: s.projectId }),
        el("td", { text: s.path }),
        el("td", { class: "msg", text: s.reason }),
      ),
    );
  return [
    el("h3", { text: `Skipped projects (${fmtInt(ctx.skippedTotal ?? skipped.length)})` }),
    skipped.length === 0
      ? el("p", { class: "muted", text: "None." })
      : el("div", { class: "scroll" }, el("table", {}, header, el("tbody", {}, rows))),
    skipped.length > 500 ? el("p", { class: "muted", text: `First 500 of ${skipped.length} shown.` }) : null,
  ];
}

/** Stop and Reset for a run, offered to operate tokens, enabled while it is active. */
function runActions(e) {
  const active = ACTIVE.includes(e.status);
  const action = (label, onclick) =>
    el(
      "button",
      {
        type: "button",
        class: "warn",
        disabled: !active,
        hidden: !may("operate"),
        "data-role": "operate",
        onclick,
      },
      label,
    );
  return el(
    "div",
    { class: "actions" },
    action(`Stop #${e.id}`, () => stopRun(e.id)),
    action(`Reset #${e.id}`, () => resetRun(e.id, false)),
  );
}

// ---------- items ----------

// Searches may overlap (a second click before the first answer): only the latest one renders,
// or both answers would be appended to the table.
let searchGeneration = 0;

const DAY_MS = 86400000;
const ITEM_SYNC_WAIT_MS = 60000;

/** Whole days since `iso` (the workflow status's set date), or "—". */
function daysSince(iso) {
  if (!iso) return "—";
  const days = Math.floor((Date.now() - Date.parse(iso)) / DAY_MS);
  return Number.isFinite(days) ? String(Math.max(0, days)) : "—";
}

const REASON_TEXT = {
  behind: "tables behind GitLab",
  quarantined: "quarantined",
  dead_letter: "dead letter",
};
const reasonsText = (status) => (status?.reasons ?? []).map((r) => REASON_TEXT[r] ?? r).join(", ");

/** The *Sync this item* button (operate): POST /sync/{projectId}, its answer in `answer`. */
function syncButton(projectId, answer, onSynced) {
  return el(
    "button",
    {
      type: "button",
      class: "quiet sync-item",
      hidden: !may("operate"),
      "data-role": "operate",
      onclick: (ev) => syncItem(projectId, ev.currentTarget, answer, onSynced).catch(ignoreSignedOut),
    },
    "Sync this item",
  );
}

/**
 * Asks for a sync of one project, says what was published, then watches the item until its
 * tables hold GitLab's head again (or a minute passes) and hands the fresh item to `onSynced`.
 */
async function syncItem(projectId, button, answer, onSynced) {
  button.disabled = true;
  answer.className = "item-answer";
  answer.textContent = "Asking…";
  const before = await api("GET", `/items/${projectId}`);
  const { status, body } = await api("POST", `/sync/${projectId}`);
  if (status !== 202) {
    answer.className = "item-answer error";
    answer.textContent = explain(status, body);
    button.disabled = false;
    return;
  }
  answer.className = "item-answer";
  answer.textContent = `202 — published ${body.published.join(" and ")}; waiting for the workers…`;
  const deadline = Date.now() + ITEM_SYNC_WAIT_MS;
  const since = before.status === 200 ? before.body : null;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = await api("GET", `/items/${projectId}`);
    if (now.status !== 200) {
      answer.textContent = `202 — published; the item now answers ${explain(now.status, now.body)}`;
      break;
    }
    const item = now.body;
    const moved =
      !since ||
      item.updatedAt !== since.updatedAt ||
      item.currentCommitHash !== since.currentCommitHash ||
      item.status?.lastUpdate?.at !== since.status?.lastUpdate?.at;
    if (!item.status?.stale && moved) {
      answer.textContent = `Synced: the tables hold ${(item.currentCommitHash ?? "no commit").slice(0, 12)}.`;
      onSynced?.(item);
      break;
    }
    if (Date.now() > deadline) {
      answer.className = "item-answer error";
      answer.textContent = `202 — published, but after a minute the item is still ${item.status?.stale ? `stale (${reasonsText(item.status)})` : "unchanged"}: see its status.`;
      onSynced?.(item);
      break;
    }
  }
  button.disabled = false;
}

/** One row of the items table. */
function itemRow(item) {
  const answer = el("span", { class: "item-answer", role: "status" });
  const stale = !!item.status?.stale;
  const row = el(
    "tr",
    { "data-project": item.projectId, class: stale ? "stale" : null },
    el("td", { text: item.itemId ?? "—" }),
    el("td", { text: item.itemType ?? "—" }),
    el("td", { text: item.subject ?? "—" }),
    el("td", { text: item.grade ?? "—" }),
    el("td", { text: item.workflowStatus ?? "—" }),
    el("td", { class: "num", text: daysSince(item.workflowStatusSetAt) }),
    el("td", {}, el("a", { href: `#/items/${item.projectId}`, text: item.projectId })),
    el("td", { class: "hide-narrow", text: item.projectPath }),
    el("td", {}, el("code", { class: "commit", text: (item.currentCommitHash ?? "—").slice(0, 12) })),
    el(
      "td",
      { class: "item-state" },
      stale
        ? [
            el("span", { class: "badge s-FAILED", text: "stale" }),
            " ",
            el("span", { class: "muted", text: reasonsText(item.status) }),
            " ",
            syncButton(item.projectId, answer, (fresh) => row.replaceWith(itemRow(fresh))),
            " ",
            answer,
          ]
        : item.problem
          ? el("span", { class: "badge s-FAILED", text: "quarantined" })
          : el("span", { class: "muted", text: "up to date" }),
    ),
  );
  return row;
}

async function searchItems(more) {
  const generation = ++searchGeneration;
  const { q, stale } = state.items;
  const tbody = $("items").tBodies[0];
  if (!more) state.items.cursor = null;
  const params = new URLSearchParams({ limit: "50" });
  if (q) params.set("q", q);
  if (stale) params.set("stale", "true");
  if (more && state.items.cursor) params.set("cursor", state.items.cursor);
  const { status, body } = await api("GET", `/items?${params}`);
  if (generation !== searchGeneration) return;
  if (!more) tbody.replaceChildren();
  if (status !== 200) {
    $("items-note").textContent = explain(status, body);
    return;
  }
  tbody.append(...body.items.map(itemRow));
  state.items.cursor = body.nextCursor;
  $("items-more").hidden = !body.nextCursor;
  const shown = tbody.rows.length;
  const what = /^\d+$/.test(q)
    ? ` with item id or project id ${q} or a path containing it`
    : ` whose path contains “${q}”`;
  $("items-note").textContent =
    `${shown}${stale ? " stale" : ""} item${shown === 1 ? "" : "s"}${q ? what : ""}${body.nextCursor ? " so far" : ""}.`;
}

const shortSha = (sha) => (sha ? sha.slice(0, 12) : "—");

/** The status block: why the item is (or is not) stale. */
function statusSection(body) {
  const s = body.status;
  if (!s) return [];
  const head = s.gitlabHead;
  const dl = el("dl", { class: "figures", id: "item-status" });
  figures(dl, [
    ["Stale", s.stale ? `yes — ${reasonsText(s)}` : "no"],
    [
      "GitLab's head",
      head
        ? `${shortSha(head.commitHash)} (${head.seenBy === "push" ? "a push received" : "read by update-item"} ${fmtTime(head.seenAt)})`
        : "not seen yet",
    ],
    [
      "Tables hold",
      s.tables ? `${shortSha(s.tables.commitHash)} (${fmtTime(s.tables.commitDate)})` : "no IMRT rows",
    ],
    ["Last push received", s.lastPush ? `${fmtTime(s.lastPush.at)} — ${shortSha(s.lastPush.sha)}` : "none"],
    [
      "Last update applied",
      s.lastUpdate
        ? `${fmtTime(s.lastUpdate.at)} — ${s.lastUpdate.outcome ?? "?"} (${s.lastUpdate.messageId ?? "no message id"})`
        : "none",
    ],
    ["Hook", s.hook?.state ? `${s.hook.state} since ${fmtTime(s.hook.since)}` : "not checked yet"],
  ]);
  const dead = s.deadLetters ?? [];
  return [
    el("h3", { text: "Status" }),
    dl,
    dead.length === 0
      ? null
      : el(
          "div",
          { class: "scroll" },
          el(
            "table",
            { id: "item-dead-letters" },
            el("caption", { text: "Dead letters" }),
            el(
              "thead",
              {},
              el(
                "tr",
                {},
                ["When", "Message", "Queue", "Attempts", "By", "Reason"].map((h) =>
                  el("th", { scope: "col", text: h }),
                ),
              ),
            ),
            el(
              "tbody",
              {},
              dead.map((d) =>
                el(
                  "tr",
                  {},
                  el("td", { text: fmtTime(d.deadLetteredAt) }),
                  el("td", {}, el("code", { text: d.messageId ?? d.messageType })),
                  el("td", { text: `${d.queue}.dead` }),
                  el("td", { class: "num", text: d.attempts }),
                  el("td", { text: d.deadLetteredBy }),
                  el("td", { class: "msg", text: d.reason }),
                ),
              ),
            ),
          ),
        ),
  ];
}

/** A table with a heading row and one row per entry. */
function simpleTable(id, headings, rows) {
  return el(
    "div",
    { class: "scroll" },
    el(
      "table",
      { id },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          headings.map((h) => el("th", { scope: "col", text: h })),
        ),
      ),
      el("tbody", {}, rows),
    ),
  );
}

async function showItem(projectId) {
  const panel = $("item");
  panel.hidden = false;
  $("item-title").textContent = `Item ${projectId}`;
  const { status, body } = await api("GET", `/items/${projectId}`);
  if (status !== 200) {
    $("item-body").replaceChildren(el("p", { class: "error", text: explain(status, body) }));
    return;
  }
  if (body.itemId !== null) $("item-title").textContent = `Item ${body.itemId} (project ${projectId})`;
  const dl = el("dl", { class: "figures", id: "item-fields" });
  figures(dl, [
    ["Item id", body.itemId ?? "—"],
    ["Type", body.itemType ?? "—"],
    ["Classification", body.classification ?? "—"],
    ["Subject", body.subject ?? "—"],
    ["Grade", body.grade ?? "—"],
    ["Workflow status", body.workflowStatus ?? "—"],
    ["Status set", `${fmtTime(body.workflowStatusSetAt)} (${daysSince(body.workflowStatusSetAt)} days)`],
    [
      "Created by",
      `${body.itemCreatedBy ?? "—"} ${body.itemCreatedAt ? `(${fmtTime(body.itemCreatedAt)})` : ""}`,
    ],
    ["Last updated by", body.updatedBy ?? "—"],
    ["Stimulus", body.associatedStimulusId ?? "—"],
    ["Project", `${body.projectId} — ${body.projectPath}`],
    ["Default branch", body.defaultBranch ?? "—"],
    ["Current commit", body.currentCommitHash ?? "—"],
    ["Commit date", fmtTime(body.currentCommitDate)],
  ]);
  const answer = el("span", { class: "item-answer", role: "status", id: "item-sync-answer" });
  const history = body.history ?? [];
  const events = body.events ?? [];
  $("item-body").replaceChildren(
    ...[
      body.problem
        ? el("p", { class: "error", id: "item-problem", text: `Quarantined: ${body.problem}` })
        : null,
      dl,
      el(
        "div",
        { class: "actions" },
        syncButton(projectId, answer, () => showItem(projectId).catch(ignoreSignedOut)),
        answer,
      ),
      ...statusSection(body),
      el("h3", { text: "Commit history" }),
      history.length === 0
        ? el("p", { class: "muted", text: "No commit recorded (no IMRT rows)." })
        : simpleTable(
            "item-history",
            ["Commit", "Date", "Author"],
            history.map((h) =>
              el(
                "tr",
                {},
                el("td", {}, el("code", { text: shortSha(h.commitHash) })),
                el("td", { text: fmtTime(h.commitDate) }),
                el("td", { text: h.author }),
              ),
            ),
          ),
      el("h3", { text: "Events" }),
      simpleTable(
        "item-events",
        ["When", "Action", "Commit", "Run", "Message"],
        events.map((h) =>
          el(
            "tr",
            {},
            el("td", { text: fmtTime(h.createdAt) }),
            el("td", { text: h.action }),
            el("td", {}, el("code", { text: shortSha(h.commitHash) })),
            el(
              "td",
              {},
              h.jobExecutionId
                ? el("a", { href: `#/runs/${h.jobExecutionId}`, text: `#${h.jobExecutionId}` })
                : "—",
            ),
            el("td", {}, el("code", { text: h.messageId ?? "—" })),
          ),
        ),
      ),
      el("h3", { text: "item.json" }),
      el("pre", { text: body.itemJson === null ? "none" : JSON.stringify(body.itemJson, null, 2) }),
    ].filter((part) => part !== null),
  );
}

// ---------- routing and polling ----------

function currentRoute() {
  const [, section = "runs", id] = location.hash.split("/");
  return { section: section === "items" ? "items" : "runs", id: id && /^\d+$/.test(id) ? Number(id) : null };
}

function route() {
  if (!state.token) return;
  const { section, id } = currentRoute();
  $("runs-view").hidden = section !== "runs";
  $("items-view").hidden = section !== "items";
  $("nav-runs").toggleAttribute("aria-current", section === "runs");
  $("nav-items").toggleAttribute("aria-current", section === "items");
  if (section === "runs") $("nav-runs").setAttribute("aria-current", "page");
  else $("nav-items").setAttribute("aria-current", "page");
  if (section === "runs") {
    state.detailId = id;
    $("detail").hidden = id === null;
    if (id !== null) $("detail-body").replaceChildren(el("p", { class: "muted", text: "Loading…" }));
    poll(true);
  } else {
    clearTimeout(state.timer);
    if (id !== null) showItem(id).catch(ignoreSignedOut);
    else $("item").hidden = true;
    if ($("items").tBodies[0].rows.length === 0) searchItems(false).catch(ignoreSignedOut);
  }
}

function ignoreSignedOut(err) {
  if (!(err instanceof SignedOut)) $("poll-error").textContent = `Error: ${err}`;
}

let polling = false;

/** One round of updates; schedules the next (1 s while something moves, else 5 s). */
async function poll(historyNow) {
  clearTimeout(state.timer);
  if (!state.token || currentRoute().section !== "runs" || polling) return;
  polling = true;
  let fast = false;
  try {
    const before = state.current;
    const e = await refreshCurrent();
    fast = (!!e && ACTIVE.includes(e.status)) || ItemSyncCharts.watching(e);
    const h = state.history;
    const key = e ? `${e.id}:${e.status}` : "";
    const changed = key !== h.lastKey || (before && before.counts?.read !== e?.counts?.read);
    if (
      historyNow ||
      key !== h.lastKey ||
      (changed && Date.now() - h.lastAt > 5000) ||
      Date.now() - h.lastAt > 15000
    ) {
      h.lastKey = key;
      await refreshHistory();
    }
    await ItemSyncCharts.refreshRuns(key);
    if (state.detailId !== null) {
      await refreshDetail();
      fast = fast || ACTIVE.includes(state.current?.status);
    }
    $("poll-error").textContent = "";
  } catch (err) {
    if (err instanceof SignedOut) return;
    $("poll-error").textContent = `Could not refresh: ${err}`;
  } finally {
    polling = false;
    if (state.token) state.timer = setTimeout(() => poll(false), fast ? FAST_POLL_MS : SLOW_POLL_MS);
  }
}

function bind() {
  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const token = $("token").value.trim();
    $("token").value = "";
    if (token) signIn(token);
  });
  $("oauth-sign-in").addEventListener("click", () => startOAuth());
  $("sign-out").addEventListener("click", () => signOut("Signed out."));
  $("start").addEventListener("click", () => startSync().catch(ignoreSignedOut));
  $("stop").addEventListener(
    "click",
    () => state.current && stopRun(state.current.id).catch(ignoreSignedOut),
  );
  $("reset").addEventListener(
    "click",
    () => state.current && resetRun(state.current.id, false).catch(ignoreSignedOut),
  );
  $("status-filter").addEventListener("change", () => {
    Object.assign(state.history, { status: $("status-filter").value, before: null, stack: [] });
    refreshHistory().catch(ignoreSignedOut);
  });
  $("older").addEventListener("click", () => {
    const h = state.history;
    const last = h.lastIds?.[h.lastIds.length - 1];
    if (!last) return;
    h.stack.push(h.before);
    h.before = last;
    refreshHistory().catch(ignoreSignedOut);
  });
  $("newer").addEventListener("click", () => {
    const h = state.history;
    h.before = h.stack.pop() ?? null;
    refreshHistory().catch(ignoreSignedOut);
  });
  $("item-search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.items.q = $("item-q").value.trim();
    state.items.stale = $("items-stale").checked;
    searchItems(false).catch(ignoreSignedOut);
  });
  $("items-stale").addEventListener("change", () => {
    state.items.stale = $("items-stale").checked;
    searchItems(false).catch(ignoreSignedOut);
  });
  $("items-more").addEventListener("click", () => searchItems(true).catch(ignoreSignedOut));
  window.addEventListener("hashchange", route);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) poll(false);
  });
}

async function main() {
  bind();
  try {
    const res = await fetch("/ui/config.json");
    if (res.ok) state.config = await res.json();
  } catch {
    // the token field still works
  }
  $("oauth-box").hidden = !state.config.oauth;
  ItemSyncCharts.init({ api, traceUrl: state.config.traceUrl ?? null });
  const params = new URLSearchParams(location.search);
  if (params.has("code") || params.has("error")) {
    await finishOAuth(params);
    return;
  }
  if (state.token) {
    showSignedIn(true);
    route();
  } else {
    signOut();
  }
}

main();
