// item-sync dashboard charts, drawn with uPlot (served from the binary as /ui/uplot.js; canvas,
// no inline styles, so the strict Content-Security-Policy stays). app.js calls five hooks: init
// (at start), sample (each poll of the current run), watching (keep polling while the ended
// run's queues drain), refreshRuns (when the newest run or its status changed) and traceLink (a
// run's detail). Every figure comes from the API and /metrics; each chart also gives its numbers
// as text (a summary line, or the table under the runs' charts).

window.ItemSyncCharts = (() => {
  const RUNS = 30; // as src/observability/metrics-charts.ts RECENT_RUNS: Grafana's run panels show the same
  const LIVE_POINTS = 1800; // half an hour at one sample a second
  const TRACE_PAD_MS = 60_000;
  const ENDED = ["COMPLETED", "FAILED", "STOPPED", "ABANDONED"];
  const HEIGHT = 220;

  let deps = { api: null, traceUrl: null };
  const charts = new Map(); // figure id → uPlot
  const live = {
    runId: null,
    status: "",
    t: [],
    rps: [],
    cap: [],
    queues: new Map(),
    dead: [],
    last: null,
    waiting: 0,
  };
  let runsKey = null;
  let runs = []; // ended runs among the last RUNS, oldest first
  let shownUnit = "s"; // of the duration chart, for its legend

  const $ = (id) => document.getElementById(id);
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  const text = (tag, value, attrs = {}) => {
    const node = document.createElement(tag);
    node.textContent = value;
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  };
  const fmtInt = (n) =>
    n === null || n === undefined || !Number.isFinite(n) ? "—" : Math.round(n).toLocaleString();
  const fmtNum = (n) =>
    n === null || n === undefined || !Number.isFinite(n)
      ? "—"
      : n < 10
        ? n.toFixed(1)
        : Math.round(n).toLocaleString();

  // ---------- /metrics text, with labels ----------

  function samples(metricsText) {
    const out = [];
    for (const line of metricsText.split("\n")) {
      const m = /^([A-Za-z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
      if (!m) continue;
      const labels = {};
      for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
      out.push({ name: m[1], labels, value: Number(m[3]) });
    }
    return out;
  }

  // ---------- trace links ----------

  /** TRACE_URL_TEMPLATE expanded for run `e` (src/lib/trace-url.ts), or null when not configured. */
  function traceUrl(e) {
    if (!deps.traceUrl || !e?.startTime) return null;
    const start = Date.parse(e.startTime) - TRACE_PAD_MS;
    const end = (e.endTime ? Date.parse(e.endTime) : Date.now()) + TRACE_PAD_MS;
    const values = {
      executionId: String(e.id),
      startMs: String(start),
      endMs: String(end),
      startUs: `${start}000`,
      endUs: `${end}000`,
    };
    return deps.traceUrl.replace(/\{([A-Za-z]+)\}/g, (whole, name) => values[name] ?? whole);
  }

  function traceLink(e, label) {
    const href = traceUrl(e);
    if (!href) return null;
    return text("a", label ?? `Trace of run #${e.id}`, {
      href,
      target: "_blank",
      rel: "noopener noreferrer",
      class: "trace",
    });
  }

  // ---------- drawing ----------

  function axis(extra) {
    return {
      stroke: css("--muted"),
      grid: { stroke: css("--line"), width: 1 },
      ticks: { stroke: css("--line"), width: 1 },
      ...extra,
    };
  }

  /**
   * Creates or refreshes the uPlot of figure `id`. `options()` is built again only when `key`
   * (what shapes the chart: its series, its unit) changed; otherwise the data is replaced.
   */
  function draw(id, key, data, options) {
    const figure = $(id);
    const plot = figure.querySelector(".plot");
    const old = charts.get(id);
    if (old && old.itemSyncKey === key && old.series.length === data.length) {
      old.setData(data);
      return;
    }
    old?.destroy();
    const width = Math.max(240, plot.clientWidth || 600);
    const chart = new uPlot({ width, height: HEIGHT, ...options() }, data, plot);
    chart.itemSyncKey = key;
    charts.set(id, chart);
  }

  const resize = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const id = entry.target.closest("figure")?.id;
      const chart = id && charts.get(id);
      const width = Math.floor(entry.contentRect.width);
      if (chart && width > 0 && Math.abs(chart.width - width) > 2) chart.setSize({ width, height: HEIGHT });
    }
  });

  // the scheme changed: colours come from the style sheet, so draw again
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    for (const chart of charts.values()) chart.destroy();
    charts.clear();
    renderRuns();
    renderLive();
  });

  // ---------- the last 30 runs ----------

  const durationUnit = (maxSeconds) =>
    maxSeconds >= 7200 ? [3600, "h"] : maxSeconds >= 120 ? [60, "min"] : [1, "s"];

  /**
   * Bars of one series; the legend shows `shown(u, v, i)` for the run under the cursor, from the
   * drawn value `v`: what the legend says is what the bar shows.
   */
  function barSeries(label, color, shown) {
    return {
      label,
      stroke: color,
      fill: color,
      width: 0,
      points: { show: false },
      paths: uPlot.paths.bars({ size: [0.7, 48] }),
      value: (u, v, _si, i) => (v === null || v === undefined || i === null ? "—" : shown(u, v, i)),
    };
  }

  function runAxis() {
    return axis({
      label: "run",
      values: (_u, splits) => splits.map((i) => (Number.isInteger(i) && runs[i] ? `#${runs[i].id}` : "")),
    });
  }

  // x holds each run's index in `runs`
  const runSeries = { label: "run", value: (_u, x) => (runs[x] ? `#${runs[x].id}` : "—") };
  const runScale = { time: false, range: () => [-0.5, Math.max(runs.length, 1) - 0.5] };
  const openRunOnClick = (u) => {
    u.over.classList.add("clickable");
    u.over.addEventListener("click", () => {
      const run = runs[u.cursor.idx ?? -1];
      if (run) location.hash = `#/runs/${run.id}`;
    });
  };

  function renderRuns() {
    const figureD = $("chart-durations");
    const figureC = $("chart-changes");
    if (!figureD || !figureC) return;
    $("run-charts").hidden = runs.length === 0;
    if (runs.length === 0) return;
    const x = runs.map((_, i) => i);
    const seconds = runs.map((e) => (Date.parse(e.endTime) - Date.parse(e.startTime)) / 1000);
    const [div, unit] = durationUnit(Math.max(...seconds));
    const c = (name) => runs.map((e) => e.counts?.[name] ?? 0);
    const [update, del, unchanged] = [c("updatePublished"), c("deletePublished"), c("unchanged")];
    shownUnit = unit;
    const byStatus = (want) => runs.map((e, i) => (want.includes(e.status) ? seconds[i] / div : null));
    const shownDuration = (_u, v, i) => `#${runs[i].id} ${runs[i].status}: ${fmtNum(v)} ${shownUnit}`;
    const durations = [x, byStatus(["COMPLETED"]), byStatus(["FAILED"]), byStatus(["STOPPED", "ABANDONED"])];
    draw("chart-durations", `d:${unit}`, durations, () => ({
      scales: { x: runScale },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      series: [
        runSeries,
        barSeries("COMPLETED", css("--ok"), shownDuration),
        barSeries("FAILED", css("--bad"), shownDuration),
        barSeries("STOPPED / ABANDONED", css("--muted"), shownDuration),
      ],
      axes: [runAxis(), axis({ label: unit === "s" ? "seconds" : unit === "min" ? "minutes" : "hours" })],
      hooks: { init: [openRunOnClick] },
    }));

    const stackDel = update.map((u, i) => u + del[i]);
    const stackUnchanged = stackDel.map((s, i) => s + unchanged[i]);
    // stacked by hand: the taller totals are drawn first, each smaller one over them
    draw("chart-changes", "c", [x, stackUnchanged, stackDel, update], () => ({
      scales: { x: runScale },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      series: [
        runSeries,
        // each segment is its bar's top less the bar drawn over it
        barSeries("unchanged", css("--chart-quiet"), (u, v, i) => fmtInt(v - u.data[2][i])),
        barSeries("delete-item published", css("--bad"), (u, v, i) => fmtInt(v - u.data[3][i])),
        barSeries("update-item published", css("--accent"), (_u, v) => fmtInt(v)),
      ],
      axes: [runAxis(), axis({ label: "projects" })],
      hooks: { init: [openRunOnClick] },
    }));

    // the same numbers as text, newest first, each run linked (and its trace, when configured)
    const rows = runs
      .map((e, i) => ({ e, i }))
      .reverse()
      .map(({ e, i }) => {
        const tr = document.createElement("tr");
        const run = document.createElement("td");
        run.append(text("a", `#${e.id}`, { href: `#/runs/${e.id}` }));
        const trace = document.createElement("td");
        const link = traceLink(e, "trace");
        if (link) trace.append(link);
        tr.append(
          run,
          text("td", e.status),
          text("td", e.mode ?? "—"),
          text("td", `${fmtNum(seconds[i])} s`),
          text("td", fmtNum(update[i])),
          text("td", fmtNum(del[i])),
          text("td", fmtNum(unchanged[i])),
          trace,
        );
        return tr;
      });
    $("run-chart-data").tBodies[0].replaceChildren(...rows);
    $("run-chart-data").classList.toggle("no-trace", !deps.traceUrl);
  }

  /** Loads the last runs when `key` (newest run and its status) changed since the last load. */
  async function refreshRuns(key) {
    if (!deps.api || key === runsKey) return;
    const { status, body } = await deps.api("GET", `/jobs?limit=${RUNS}`);
    if (status !== 200) return;
    runsKey = key;
    runs = body.jobs.filter((e) => ENDED.includes(e.status) && e.startTime && e.endTime).reverse();
    renderRuns();
  }

  // ---------- during a run ----------

  /** One poll's view of the current run: `metricsText` is this replica's /metrics, null when none was read. */
  function sample(e, metricsText) {
    if (!e) return;
    if (e.id !== live.runId) {
      if (!metricsText) return; // nothing watched yet: an ended run from before the page opened
      Object.assign(live, {
        runId: e.id,
        t: [],
        rps: [],
        cap: [],
        queues: new Map(),
        dead: [],
        last: null,
        waiting: 0,
      });
    }
    live.status = e.status;
    if (metricsText) {
      const now = Date.now() / 1000;
      let requests = 0;
      let cap = null;
      let dead = null;
      const ready = new Map();
      for (const s of samples(metricsText)) {
        if (s.name === "item_sync_gitlab_requests_total") requests += s.value;
        else if (s.name === "item_sync_gitlab_max_requests_per_second") cap = s.value;
        else if (s.name === "item_sync_queue_messages_ready" && s.labels.role === "work")
          ready.set(s.labels.queue, s.value);
        else if (s.name === "item_sync_queue_messages_ready" && s.labels.role === "dead")
          dead = (dead ?? 0) + s.value;
      }
      const prev = live.last;
      const rate =
        prev && now > prev.t && requests >= prev.requests
          ? (requests - prev.requests) / (now - prev.t)
          : null;
      live.last = { t: now, requests };
      live.t.push(now);
      live.rps.push(rate);
      live.cap.push(cap && cap > 0 ? cap : null);
      live.capValue = cap;
      for (const name of ready.keys())
        if (!live.queues.has(name))
          live.queues.set(
            name,
            live.t.slice(0, -1).map(() => null),
          );
      for (const [name, values] of live.queues) values.push(ready.get(name) ?? null);
      live.dead.push(dead);
      live.waiting = [...ready.values()].reduce((a, b) => a + b, 0);
      if (live.t.length > LIVE_POINTS) {
        for (const a of [live.t, live.rps, live.cap, live.dead, ...live.queues.values()]) a.shift();
      }
    }
    renderLive();
  }

  // one sample (a run that ended within a second) still gets a readable minute around it
  const liveTime = {
    time: true,
    range: (_u, min, max) => (max - min < 10 ? [min - 30, max + 30] : [min, max]),
  };

  function renderLive() {
    const panel = $("live-charts");
    if (!panel || live.runId === null) return;
    panel.hidden = false;
    const active = !ENDED.includes(live.status);
    const state = active
      ? ""
      : watching({ id: live.runId })
        ? " (ended; following the queues as they drain)"
        : " (ended)";
    $("live-run").textContent =
      `Run #${live.runId} · ${live.status}${state} · ${live.t.length} sample${live.t.length === 1 ? "" : "s"}`;
    const rates = live.rps.filter((v) => v !== null);
    const capText =
      live.capValue > 0 ? `GITLAB_MAX_RPS ${fmtNum(live.capValue)}` : "GITLAB_MAX_RPS not set (no cap)";
    $("live-rps-summary").textContent =
      `now ${fmtNum(rates.at(-1))}/s · peak ${fmtNum(rates.length ? Math.max(...rates) : null)}/s · ${capText}`;
    draw("chart-gitlab-rps", `r:${live.capValue > 0}`, [live.t, live.rps, live.cap], () => ({
      scales: {
        x: liveTime,
        y: { range: (_u, _min, max) => [0, Math.max(1, max, live.capValue ?? 0) * 1.1] },
      },
      series: [
        {},
        {
          label: "GitLab requests/s (this replica)",
          stroke: css("--accent"),
          width: 2,
          points: { show: false },
          value: (_u, v) => fmtNum(v),
        },
        {
          label: live.capValue > 0 ? "GITLAB_MAX_RPS" : "GITLAB_MAX_RPS (not set)",
          stroke: css("--bad"),
          width: 1.5,
          dash: [6, 4],
          points: { show: false },
          value: (_u, v) => fmtNum(v),
        },
      ],
      axes: [axis({}), axis({ label: "requests / s" })],
    }));

    const palette = [css("--accent"), css("--warn"), css("--ok")];
    const names = [...live.queues.keys()];
    const latest = names.map((n) => `${n} ${fmtInt(live.queues.get(n).at(-1))}`);
    $("live-queue-summary").textContent =
      `now ${latest.join(" · ") || "—"} · dead (all) ${fmtInt(live.dead.at(-1))}`;
    const queueData = [live.t, ...names.map((n) => live.queues.get(n)), live.dead];
    draw("chart-queues", `q:${names.join(",")}`, queueData, () => ({
      scales: { x: liveTime, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
      series: [
        {},
        ...names.map((n, i) => ({
          label: n,
          stroke: palette[i % palette.length],
          width: 2,
          points: { show: false },
          value: (_u, v) => fmtInt(v),
        })),
        {
          label: "dead (all .dead queues)",
          stroke: css("--bad"),
          width: 1.5,
          dash: [2, 3],
          points: { show: false },
          value: (_u, v) => fmtInt(v),
        },
      ],
      axes: [axis({}), axis({ label: "messages ready" })],
    }));
  }

  function init(options) {
    deps = { ...deps, ...options };
    for (const figure of document.querySelectorAll("figure.chart .plot")) resize.observe(figure);
  }

  /**
   * Whether the page should go on sampling /metrics for run `e` after it ended: while its
   * messages still wait in the work queues (the workers drain them after the scan).
   */
  function watching(e) {
    return !!e && e.id === live.runId && live.waiting > 0 && live.t.length < LIVE_POINTS;
  }

  return { init, sample, watching, refreshRuns, traceLink, traceUrl };
})();
