/**
 * What an operator sees when something around item-sync is wrong, through the compiled binary:
 * each mistake ends with exit 2 and one message that names the variable and says what to do.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJobRepository } from "../../src/batch/repository.ts";
import { SYNC_JOB_NAME, SYNC_STEP_NAME } from "../../src/sync/sync-step.ts";
import {
  API_TOKEN,
  amqpUrl,
  brokerNames,
  deleteBrokerNames,
  freePort,
  type RunningProcess,
  requireBinary,
  serviceEnv,
  startBinary,
  TEST_WEBHOOK_SECRET,
  waitFor,
} from "../helpers/binary.ts";
import { createTestDatabase } from "../helpers/db.ts";
import { startTcpProxy } from "../reliability/lib/tcp-proxy.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";

/** One simulated GitLab for the tests whose mistake is elsewhere: serve and worker ask it at start. */
const gitlab: GitlabSim = startGitlabSim({ projects: 2, subgroupFraction: 0, sharedFraction: 0 });
afterAll(() => gitlab.close());

/**
 * A describe block's set-up for serve and worker against the GitLab above: a temporary folder
 * holding the SQLite database `env` names, broker names of its own, and the rest of a valid
 * environment (serviceEnv) with `extra` on top. Whatever the tests push to `procs` is killed,
 * the broker names deleted and the folder removed after the block.
 */
function operatorSetup(prefix: string, extra: Record<string, string> = {}) {
  const names = brokerNames(prefix);
  let dir = "";
  const env: Record<string, string> = {};
  const procs: RunningProcess[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), `item-sync-${prefix}-`));
    Object.assign(env, serviceEnv(gitlab, names, { DATABASE_URL: `sqlite:${join(dir, "a.db")}`, ...extra }));
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill("SIGKILL")));
    await deleteBrokerNames(names);
    rmSync(dir, { recursive: true, force: true });
  });
  /** `env` is filled in beforeAll; `file` names a file in the block's folder. */
  return { env, procs, file: (name: string) => join(dir, name) };
}

describe("a port in use", () => {
  const { env, procs, file } = operatorSetup("port", { INGEST_ENABLED: "false" });

  test("a second serve or worker on the same PORT exits 2 naming PORT instead of sharing it", async () => {
    const port = String(freePort());
    const first = await startBinary(["serve"], { ...env, PORT: port });
    procs.push(first);
    // a second serve on another database: with a shared port, GET /jobs would alternate between them
    const second = await startBinary(
      ["serve"],
      { ...env, PORT: port, DATABASE_URL: `sqlite:${file("b.db")}` },
      { waitForHttp: false },
    );
    procs.push(second);
    expect(await second.exited).toBe(2);
    expect(second.logs()).toContain(`PORT: 127.0.0.1:${port} is already in use`);
    expect(second.logs()).not.toContain("    at ");

    const worker = await startBinary(["worker"], { ...env, PORT: port }, { waitForHttp: false });
    procs.push(worker);
    expect(await worker.exited).toBe(2);
    expect(worker.logs()).toContain(`PORT: 127.0.0.1:${port} is already in use`);

    expect((await fetch(`${first.url}/health/live`)).status).toBe(200);
  }, 60_000);
});

describe("variables that look like ours", () => {
  test("a misspelt variable gets a warning naming the one it probably meant", async () => {
    const dir = mkdtempSync(join(tmpdir(), "item-sync-typo-"));
    try {
      const p = await startBinary(
        ["migrate"],
        { DATABASE_URL: `sqlite:${join(dir, "t.db")}`, SYNC_CRONN: "0 3 * * *" },
        { waitForHttp: false },
      );
      expect(await p.exited).toBe(0);
      expect(p.logs()).toContain("SYNC_CRONN is not a variable item-sync reads: did you mean SYNC_CRON?");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("DATABSE_URL with DATABASE_URL unset: exit 2 naming both, no ./item-sync.db made on the default", async () => {
    const dir = mkdtempSync(join(tmpdir(), "item-sync-typo-"));
    try {
      const p = await startBinary(
        ["migrate"],
        { DATABSE_URL: `sqlite:${join(dir, "meant.db")}` },
        { waitForHttp: false, cwd: dir },
      );
      expect(await p.exited).toBe(2);
      expect(p.logs()).toContain(
        "DATABSE_URL is set but DATABASE_URL is not: item-sync reads DATABASE_URL (is DATABSE_URL a misspelling of it?)",
      );
      expect(existsSync(join(dir, "item-sync.db"))).toBe(false);
      expect(existsSync(join(dir, "meant.db"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("database mistakes", () => {
  let dir: string;
  const base = {
    GITLAB_URL: "http://127.0.0.1:9",
    GITLAB_TOKEN: "glpat-db-test-token",
    GITLAB_GROUP: "items",
    WEBHOOK_URL: "https://item-sync.test/webhooks/gitlab",
    API_TOKENS: API_TOKEN,
    INGEST_ENABLED: "false",
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "item-sync-db-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (args: string[], env: Record<string, string>) => {
    const p = await startBinary(args, env, { waitForHttp: false, cwd: dir });
    const code = await p.exited;
    return { code, out: p.logs() };
  };

  test("Postgres not reachable: exit 2 naming DATABASE_URL and host:port, not driver text", async () => {
    const port = freePort();
    const r = await run(["serve"], {
      ...base,
      AMQP_URL: amqpUrl(),
      DATABASE_URL: `postgres://imrt:db-secret-pw@127.0.0.1:${port}/imrt`,
    });
    expect(r.code).toBe(2);
    expect(r.out).toContain(
      `item-sync: DATABASE_URL: cannot connect to 127.0.0.1:${port} (connection refused`,
    );
    expect(r.out).not.toContain("ECONNREFUSED");
    expect(r.out).not.toContain("db-secret-pw");
    expect(r.out).not.toContain("    at ");
  });

  test("a Postgres database without our tables and DB_MIGRATE=false: exit 2, run item-sync migrate", async () => {
    const t = await createTestDatabase("pg", { migrated: false });
    try {
      const r = await run(["serve"], {
        ...base,
        AMQP_URL: amqpUrl(),
        DATABASE_URL: t.url,
        DB_MIGRATE: "false",
      });
      expect(r.code).toBe(2);
      expect(r.out).toContain("item-sync: database not migrated: run `item-sync migrate`");
    } finally {
      await t.drop();
    }
  });

  /** A database as the replaced service left it: the IMRT item tables of V44 in `public`. */
  const v44Database = async () => {
    const t = await createTestDatabase("pg", { migrated: false, imrt: false });
    await t.db.run(readFileSync(join(import.meta.dir, "../fixtures/imrt-v44.sql"), "utf8"));
    return t;
  };

  test("item-sync migrate into the schema of the replaced service's tables: exit 2 naming DATABASE_SCHEMA and the tables, nothing created", async () => {
    const t = await v44Database();
    try {
      const r = await run(["migrate"], { DATABASE_URL: t.url });
      expect(r.code).toBe(2);
      expect(r.out).toContain(
        'item-sync: schema "public" (DATABASE_SCHEMA) already holds tables item-sync would create (item, item_log)',
      );
      expect(r.out).toContain("DATABASE_SCHEMA=item_sync");
      expect(r.out).not.toContain("    at ");
      const ours = await t.db.all(
        "select table_name from information_schema.tables where table_name in ('batch_job_instance', 'sync_project')",
      );
      expect(ours).toEqual([]);
    } finally {
      await t.drop();
    }
  });

  test("item-sync migrate on IMRT tables lacking a column item-sync writes: exit 2 naming table and column, nothing altered", async () => {
    const t = await v44Database();
    try {
      await t.db.run("alter table item drop column scoring_engine");
      const r = await run(["migrate"], { DATABASE_URL: t.url, DATABASE_SCHEMA: "item_sync" });
      expect(r.code).toBe(2);
      expect(r.out).toContain('table item has no column scoring_engine in schema "public" (IMRT_SCHEMA)');
      expect(r.out).not.toContain("    at ");
      const [column] = await t.db.all(
        "select 1 from information_schema.columns where table_name = 'item' and column_name = 'scoring_engine'",
      );
      expect(column).toBeUndefined(); // reported, never added
    } finally {
      await t.drop();
    }
  });

  test("PG* variables change nothing: DATABASE_URL alone says where and how; each one set is named in a warning, no value printed", async () => {
    const t = await createTestDatabase("pg", { migrated: false });
    try {
      const libpq = {
        PGSSL: "require", // postgres.js would insist on TLS, which the test server does not offer
        PGTARGETSESSIONATTRS: "no-such-mode", // postgres.js would refuse to start
        PGPASSWORD: "pg-env-secret-4711",
        PGUSER: "nobody-here",
        PGHOST: "192.0.2.1",
        PGPORT: "1",
        PGDATABASE: "no_such_database",
      };
      const r = await run(["migrate"], { DATABASE_URL: t.url, ...libpq });
      expect(r.code).toBe(0);
      expect(r.out).toContain("applied");
      for (const name of Object.keys(libpq)) {
        expect(r.out).toContain(`${name} is set: item-sync ignores libpq's PG* variables`);
      }
      expect(r.out).not.toContain("pg-env-secret-4711");
    } finally {
      await t.drop();
    }
  });

  test("SQLite: a missing file is not created by jobs; a missing folder is named", async () => {
    const file = join(dir, "missing.db");
    const r = await run(["jobs", "list"], { DATABASE_URL: `sqlite:${file}` });
    expect(r.code).toBe(2);
    expect(r.out).toContain(
      `DATABASE_URL: the SQLite file ${file} does not exist: database not migrated: run \`item-sync migrate\``,
    );
    expect(existsSync(file)).toBe(false);

    const nowhere = join(dir, "no-such-folder", "x.db");
    const m = await run(["migrate"], { DATABASE_URL: `sqlite:${nowhere}` });
    expect(m.code).toBe(2);
    expect(m.out).toContain(`DATABASE_URL: cannot open the SQLite file ${nowhere}`);
    expect(m.out).not.toContain("    at ");
  });

  test("SQLite: a file this process may read but not write exits 2 naming DATABASE_URL, instead of starting and answering 503", async () => {
    // root writes whatever the permissions say: the process runs as nobody then
    const ro = mkdtempSync(join(tmpdir(), "item-sync-ro-"));
    try {
      const file = join(ro, "ro.db");
      const made = await run(["migrate"], { DATABASE_URL: `sqlite:${file}` });
      expect(made.code).toBe(0);
      chmodSync(file, 0o444);
      chmodSync(ro, 0o777); // the folder stays writable: only the file is read-only
      const asNobody =
        process.getuid?.() === 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
      for (const command of ["migrate", "serve"]) {
        const proc = Bun.spawn([...asNobody, requireBinary(), command], {
          env: {
            PATH: process.env.PATH ?? "",
            ...base,
            AMQP_URL: amqpUrl(),
            HOST: "127.0.0.1",
            PORT: String(freePort()),
            WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
            SYNC_CRON: "off",
            DATABASE_URL: `sqlite:${file}`,
          },
          cwd: ro,
          stdout: "pipe",
          stderr: "pipe",
        });
        const [out, err, code] = await Promise.all([
          new Response(proc.stdout).text(),
          new Response(proc.stderr).text(),
          proc.exited,
        ]);
        expect(code).toBe(2);
        expect(out + err).toContain(
          `item-sync: DATABASE_URL: the SQLite file ${file} is read-only for this process`,
        );
        expect(out + err).not.toContain("    at ");
      }
    } finally {
      rmSync(ro, { recursive: true, force: true });
    }
  });

  test("the DATABASE_URL hint survives redaction while the real password does not", async () => {
    const r = await run(["jobs", "list"], { DATABASE_URL: "mysql://root:hunter2@db/x" });
    expect(r.code).toBe(2);
    expect(r.out).toContain("postgres://USER:PASSWORD@HOST:PORT/DATABASE");
    expect(r.out).not.toContain("hunter2");
  });
});

describe("GitLab mistakes", () => {
  const { env, procs } = operatorSetup("gitlab");
  const exits = async (command: string, changes: Record<string, string>) => {
    const p = await startBinary([command], { ...env, ...changes }, { waitForHttp: false });
    procs.push(p);
    return { code: await p.exited, out: p.logs() };
  };

  test("a token GitLab refuses: serve and worker exit 2 at start naming GITLAB_TOKEN, never the token", async () => {
    const token = "glpat-not-the-right-token-42";
    for (const command of ["serve", "worker"]) {
      const { code, out } = await exits(command, { GITLAB_TOKEN: token });
      expect({ command, code }).toEqual({ command, code: 2 });
      expect(out).toContain(`GITLAB_TOKEN: GitLab at ${gitlab.url} rejected the token (401 Unauthorized)`);
      expect(out).not.toContain(token);
      expect(out).not.toContain("    at ");
    }
  });

  test("a group GitLab does not know: serve and worker exit 2 at start naming GITLAB_GROUP", async () => {
    for (const command of ["serve", "worker"]) {
      const { code, out } = await exits(command, { GITLAB_GROUP: "imrt/no-such-group" });
      expect({ command, code }).toEqual({ command, code: 2 });
      expect(out).toContain("GITLAB_GROUP: GitLab at");
      expect(out).toContain('no group "imrt/no-such-group"');
      expect(out).not.toContain("    at ");
    }
  });

  test("GitLab unreachable: serve waits, naming GITLAB_URL and its host (never its password), and starts once GitLab answers; readiness then follows GitLab's last answer", async () => {
    const port = freePort();
    const password = "gitlab-url-password-7";
    const p = await startBinary(
      ["serve"],
      { ...env, GITLAB_URL: `http://bob:${password}@127.0.0.1:${port}`, INGEST_ENABLED: "false" },
      { waitForHttp: false },
    );
    procs.push(p);
    await waitFor("a wait logged naming GITLAB_URL and its host", async () =>
      p
        .logs()
        .includes(`waiting for GitLab at http://127.0.0.1:${port} (GITLAB_URL, host 127.0.0.1:${port})`),
    );
    expect(p.proc.exitCode).toBeNull();
    expect((await fetch(`${p.url}/health/ready`)).status).toBe(503);
    const late = startGitlabSim({ port, projects: 2, subgroupFraction: 0, sharedFraction: 0 });
    try {
      const ready = () =>
        fetch(`${p.url}/health/ready`).then(
          async (r) => (r.ok ? ((await r.json()) as { checks: Record<string, string> }) : null),
          () => null,
        );
      const body = await waitFor("serve ready once GitLab answers", ready, 30_000);
      expect(body.checks.gitlab).toBe("ok");
      // GitLab now refuses the token: the next call meets the refusal, and readiness says so
      late.set({ token: "rotated-elsewhere" });
      const launched = await fetch(`${p.url}/sync`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_TOKEN}` },
      });
      expect(launched.status).toBe(202);
      const refused = await waitFor("readiness to show the refusal", async () => {
        const r = await fetch(`${p.url}/health/ready`);
        const checks = ((await r.json()) as { checks: Record<string, string> }).checks;
        return checks.gitlab?.startsWith("refused since") && checks;
      });
      expect(refused.gitlab).toContain("401");
      expect(p.logs()).not.toContain(password);
    } finally {
      await late.close();
    }
  }, 60_000);
});

describe("broker mistakes", () => {
  // each test gives AMQP_URL its own way to the broker
  const { env, procs } = operatorSetup("broker", { INGEST_ENABLED: "false" });

  test("credentials RabbitMQ refuses: exit 2 at once naming AMQP_URL's user, never the password", async () => {
    const url = new URL(amqpUrl());
    url.password = "not-the-password";
    const p = await startBinary(["serve"], { ...env, AMQP_URL: url.toString() }, { waitForHttp: false });
    procs.push(p);
    expect(await p.exited).toBe(2);
    expect(p.logs()).toContain(
      `AMQP_URL: RabbitMQ at ${url.hostname}:${url.port} refused user "${url.username}" (ACCESS_REFUSED)`,
    );
    expect(p.logs()).not.toContain("not-the-password");
    expect(p.logs()).not.toContain("undefined: ACCESS_REFUSED");
  });

  test("broker unreachable: retries are logged with the time left, /health/live answers, POST /sync is 503 until it is back (401 without a token)", async () => {
    const upstream = new URL(amqpUrl());
    const proxy = startTcpProxy(upstream.hostname, Number(upstream.port));
    try {
      proxy.refuse(3_600_000);
      const via = new URL(amqpUrl());
      via.host = `127.0.0.1:${proxy.port}`;
      const p = await startBinary(
        ["serve"],
        { ...env, AMQP_URL: via.toString(), AMQP_RECONNECT_TIMEOUT: "600" },
        { waitForHttp: false },
      );
      procs.push(p);
      // /health/live answers while the broker is awaited; the API says it is starting
      await waitFor("/health/live", () =>
        fetch(`${p.url}/health/live`).then(
          (r) => r.ok,
          () => false,
        ),
      );
      const early = await fetch(`${p.url}/jobs`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
      expect(early.status).toBe(503);
      expect(((await early.json()) as { error: { code: string } }).error.code).toBe("STARTING");
      // authentication comes first, even while starting: no token, 401 as later (not 503)
      const anonymous = await fetch(`${p.url}/sync?mode=bogus`, { method: "POST" });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get("www-authenticate")).toStartWith("Bearer");
      await waitFor("a retry logged with the time left", async () =>
        /waiting for RabbitMQ at 127\.0\.0\.1:\d+ \(AMQP_URL\): .*retrying, giving up in \d+ s/.test(
          p.logs(),
        ),
      );
      expect((await fetch(`${p.url}/health/ready`)).status).toBe(503);

      // the start-up probe hands the port to the real server: a refused connection in between is fine
      const readyStatus = () =>
        fetch(`${p.url}/health/ready`).then(
          (r) => r.status,
          () => 0,
        );
      const ready = () => waitFor("ready", async () => (await readyStatus()) === 200);
      const sync = () =>
        fetch(`${p.url}/sync`, { method: "POST", headers: { authorization: `Bearer ${API_TOKEN}` } });
      proxy.refuse(0);
      await ready();

      // the broker goes away while serve runs
      proxy.refuse(3_600_000);
      proxy.drop();
      await waitFor("broker seen as lost", async () => {
        const body = (await (await fetch(`${p.url}/health/ready`)).json()) as {
          checks: Record<string, string>;
        };
        return body.checks.broker?.startsWith("unavailable");
      });
      const refused = await sync();
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("BROKER_UNAVAILABLE");

      proxy.refuse(0);
      await ready();
      expect((await sync()).status).toBe(202);
    } finally {
      proxy.close();
    }
  }, 60_000);
});

describe("the jobs CLI speaks CLI", () => {
  test("a live execution: reset suggests jobs stop or --force, list and show give the heartbeat's age and when it is presumed dead", async () => {
    const t = await createTestDatabase("sqlite");
    try {
      const repo = createJobRepository(t.db, { leaseMs: 600_000 });
      const launched = await repo.launch({
        jobName: SYNC_JOB_NAME,
        stepName: SYNC_STEP_NAME,
        trigger: "api",
      });
      if (launched.kind !== "started") throw new Error("expected a started execution");
      const id = launched.execution.id;
      const env = { DATABASE_URL: t.url, JOB_LEASE_SECONDS: "600" };
      const run = async (args: string[]) => {
        const p = await startBinary(args, env, { waitForHttp: false });
        return { code: await p.exited, out: p.logs() };
      };

      const reset = await run(["jobs", "reset", String(id)]);
      expect(reset.code).toBe(1);
      expect(reset.out).toContain(`item-sync jobs stop ${id}`);
      expect(reset.out).toContain(`item-sync jobs reset ${id} --force`);
      expect(reset.out).toMatch(/last heartbeat is \d+ s old, and it is presumed dead at \S+ \(in \d+ s\)/);
      expect(reset.out).not.toContain("POST /jobs");
      expect(reset.out).not.toContain("?force=true");

      const json = await run(["jobs", "list"]);
      expect(json.code).toBe(0);
      const [listed] = (
        JSON.parse(json.out) as { jobs: { id: number; heartbeat?: Record<string, unknown> }[] }
      ).jobs;
      expect(listed?.id).toBe(id);
      expect(Object.keys(listed?.heartbeat ?? {}).sort()).toEqual([
        "ageSeconds",
        "presumedDeadAt",
        "presumedDeadInSeconds",
      ]);

      const show = await run(["jobs", "show", String(id)]);
      expect(show.code).toBe(0);
      expect(
        (JSON.parse(show.out) as { heartbeat?: { presumedDeadInSeconds: number } }).heartbeat
          ?.presumedDeadInSeconds,
      ).toBeGreaterThan(0);

      const table = await run(["jobs", "list", "--table"]);
      expect(table.code).toBe(0);
      const [header, row] = table.out.split("\n");
      expect(header).toMatch(/^ID\s+STATUS\s+TRIGGER\s+STARTED \(UTC\)/);
      expect(row).toMatch(
        new RegExp(
          `^${id}\\s+STARTING\\s+api\\s.*heartbeat \\d+ s ago, presumed dead in \\d+ s without one$`,
        ),
      );

      const stop = await run(["jobs", "stop", String(id)]);
      expect(stop.code).toBe(0);
      expect(stop.out).toContain("marked FAILED (restartable) once presumed dead at");
    } finally {
      await t.drop();
    }
  });
});
