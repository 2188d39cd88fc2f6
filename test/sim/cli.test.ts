/**
 * The standalone simulator's command line: --help names every flag the parser takes, a wrong
 * flag is refused, and on start stdout carries the one JSON line tools parse (scripts/demo.ts,
 * bench/stream-memory.ts, bench/sim-server.ts read its first line) while stderr says how many
 * projects each kind of group listing returns — numbers checked against the listing itself.
 */
import { describe, expect, test } from "bun:test";
import { parseArgs, USAGE } from "./gitlab-cli.ts";

async function run(args: string[]) {
  const proc = Bun.spawn(["bun", "test/sim/gitlab.ts", ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

describe("flags", () => {
  test("--help prints every flag with its meaning, and each one it prints is one the parser takes", async () => {
    const { stdout, code } = await run(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toBe(`${USAGE}\n`);
    const flags = [...USAGE.matchAll(/^ {2}(--[a-z0-9-]+)( \S)?\s+\S/gm)].map((m) => [
      m[1] ?? "",
      m[2] !== undefined,
    ]);
    expect(flags.length).toBeGreaterThanOrEqual(30);
    for (const [flag, takesValue] of flags) {
      if (flag === "--help") continue;
      const value = flag === "--hook-auto-disable" ? "off" : "1";
      expect(parseArgs(takesValue ? [String(flag), value] : [String(flag)])).not.toHaveProperty("error");
    }
    // the flags the repository's scripts and documents use
    for (const used of [
      "--projects",
      "--port",
      "--latency-ms",
      "--monitored-fraction",
      "--webhook-url",
      "--token",
    ]) {
      expect(USAGE).toContain(used);
    }
  });

  test("an unknown flag or a bad value is refused with the usage, exit code 2", async () => {
    const unknown = await run(["--projectz", "5"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown flag --projectz");
    expect(parseArgs(["--shared-fraction", "2"])).toHaveProperty("error");
    expect(parseArgs(["--projects", "ten"])).toHaveProperty("error");
    expect(parseArgs(["--projects"])).toHaveProperty("error");
  });
});

describe("on start", () => {
  test("stdout: one JSON line; stderr: the projects each listing returns, as the listing returns them", async () => {
    const proc = Bun.spawn(
      ["bun", "test/sim/gitlab.ts", "--projects", "500", "--port", "0", "--archived-fraction", "0.1"],
      {
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    try {
      const reader = proc.stdout.getReader();
      let out = "";
      while (!out.includes("\n")) out += new TextDecoder().decode((await reader.read()).value);
      const info = JSON.parse(out.split("\n")[0] ?? "") as { url: string; token: string; group: string };
      expect(Object.keys(info).sort()).toEqual(["group", "groupId", "token", "url"]);
      const errReader = proc.stderr.getReader();
      let err = "";
      while (!err.includes("items:")) err += new TextDecoder().decode((await errReader.read()).value);
      const total = async (q: string) =>
        Number(
          (
            await fetch(
              `${info.url}/api/v4/groups/${encodeURIComponent(info.group)}/projects?per_page=1${q}`,
              {
                headers: { "PRIVATE-TOKEN": info.token },
              },
            )
          ).headers.get("x-total"),
        );
      const printed = (label: string) => Number(err.match(new RegExp(`(\\d+)\\s+with ${label}`))?.[1]);
      expect(printed("include_subgroups=false&with_shared=false")).toBe(
        await total("&include_subgroups=false&with_shared=false"),
      );
      expect(printed("neither parameter")).toBe(await total(""));
      expect(printed("include_subgroups=true&with_shared=false")).toBe(
        await total("&include_subgroups=true&with_shared=false"),
      );
      expect(printed("include_subgroups=true \\(")).toBe(await total("&include_subgroups=true"));
      expect(err).toMatch(
        /500 projects: \d+ in imrt\/items itself, \d+ in its 3 subgroups, \d+ in elsewhere\/shared-items/,
      );
      // why a sync reads fewer than --projects, and how to have it read them all
      const own = await total("&include_subgroups=false&with_shared=false");
      expect(own).toBeLessThan(500);
      expect(err).toContain(
        `so item-sync with its defaults (GITLAB_INCLUDE_SUBGROUPS=false, GITLAB_WITH_SHARED=false) reads ${own} of the 500; --subgroup-fraction 0 --shared-fraction 0 puts all 500 in imrt/items itself`,
      );
      const archived = Number(err.match(/(\d+) archived/)?.[1]);
      expect(archived).toBe(await total("&include_subgroups=true&archived=true"));
      expect(archived).toBeGreaterThan(0);
      reader.releaseLock();
      errReader.releaseLock();
    } finally {
      proc.kill();
      await proc.exited;
    }
  });
});
