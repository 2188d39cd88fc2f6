/**
 * The test command (scripts/test.sh) in a sandbox: a copy of the script beside stub service
 * scripts, with a stub `bun` first on PATH. Each case makes one step fail (or bun test print a
 * given summary) and checks the promise CI relies on: the last line is "N passed, N failed" on
 * every exit path, read right even when bun colours its output.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SCRIPT = join(import.meta.dir, "../../scripts/test.sh");
const sandboxes: string[] = [];

afterAll(() => {
  for (const dir of sandboxes) rmSync(dir, { recursive: true, force: true });
});

function executable(path: string, body: string): void {
  writeFileSync(path, `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(path, 0o755);
}

/** A stub step fails when its name is in FAIL_AT; `bun test` prints $TEST_OUTPUT, exits $TEST_STATUS. */
function sandbox(): string {
  const root = mkdtempSync(join(tmpdir(), "test-command-"));
  sandboxes.push(root);
  mkdirSync(join(root, "scripts"));
  mkdirSync(join(root, "bin"));
  copyFileSync(SCRIPT, join(root, "scripts/test.sh"));
  const fails = (step: string) =>
    `[[ " $FAIL_AT " == *" ${step} "* ]] && { echo "${step} failed" >&2; exit 1; }`;
  executable(join(root, "scripts/ensure-bun.sh"), `${fails("ensure-bun")}\nexit 0`);
  executable(join(root, "scripts/postgres.sh"), `[ "$1" = start ] && { ${fails("postgres")}; }\nexit 0`);
  executable(
    join(root, "scripts/rabbitmq.sh"),
    `[ "$1" = free-port ] && { echo $((20000 + RANDOM % 1000)); exit 0; }\n[ "$1" = start ] && { ${fails("rabbitmq")}; }\nexit 0`,
  );
  executable(join(root, "scripts/podman.sh"), `${fails("podman")}\nexit 0`);
  executable(join(root, "bin/apt-get"), "exit 0");
  executable(
    join(root, "bin/bun"),
    [
      'case "$*" in',
      `  "run lint") ${fails("lint")} ;;`,
      `  "run typecheck") ${fails("typecheck")} ;;`,
      `  "run build") ${fails("build")} ;;`,
      `  "scripts/gen-migrations.ts --check") ${fails("migrations")} ;;`,
      '  test*) printf "%b" "$TEST_OUTPUT"; exit "$TEST_STATUS" ;;',
      "esac",
      "exit 0",
    ].join("\n"),
  );
  return root;
}

async function run(env: { FAIL_AT?: string; TEST_OUTPUT?: string; TEST_STATUS?: string }) {
  const root = sandbox();
  const proc = Bun.spawn(["bash", join(root, "scripts/test.sh")], {
    env: {
      PATH: `${join(root, "bin")}:${process.env.PATH}`,
      FAIL_AT: "",
      TEST_OUTPUT: "",
      TEST_STATUS: "0",
      ...env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  const lines = stdout.trimEnd().split("\n");
  return { code, last: lines[lines.length - 1] };
}

const ESC = "\\x1b";

describe("scripts/test.sh summary line", () => {
  test("reads the counts of a green run", async () => {
    const r = await run({ TEST_OUTPUT: " 7 pass\\n 0 fail\\nRan 7 tests across 2 files.\\n" });
    expect(r).toEqual({ code: 0, last: "7 passed, 0 failed" });
  });

  test("reads the counts through colour codes and carriage returns", async () => {
    const r = await run({
      TEST_OUTPUT: `${ESC}[0m${ESC}[32m 12 pass${ESC}[0m\\r\\n${ESC}[0m${ESC}[31m 3 fail${ESC}[0m\\r\\n`,
      TEST_STATUS: "1",
    });
    expect(r).toEqual({ code: 1, last: "12 passed, 3 failed" });
  });

  test("a bun test that fails without a fail count counts as one failure", async () => {
    const r = await run({ TEST_OUTPUT: " 4 pass\\nerror: crashed\\n", TEST_STATUS: "1" });
    expect(r).toEqual({ code: 1, last: "4 passed, 1 failed" });
  });

  for (const step of [
    "ensure-bun",
    "postgres",
    "rabbitmq",
    "podman",
    "lint",
    "typecheck",
    "migrations",
    "build",
  ]) {
    test(`a failed ${step} step still ends with the summary, as one failure`, async () => {
      const r = await run({ FAIL_AT: step, TEST_OUTPUT: " 9 pass\\n 0 fail\\n" });
      expect(r.code).not.toBe(0);
      expect(r.last).toBe("0 passed, 1 failed");
    });
  }
});
