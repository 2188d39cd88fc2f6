/**
 * The manual in the repository is checked against the code: every variable loadConfig reads is
 * in src/config/variables.ts with the default loadConfig applies, every listed one is read, and the
 * table of docs/reference.md is the rendering of that list. Plus the warning about variables that
 * look like ours but are not read, and no user document pointing outside the repository.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REFERENCE_PATH, renderReference } from "../../scripts/gen-reference.ts";
import { loadConfig, NEEDS_ALL } from "../../src/config/config.ts";
import { CONFIG_VARIABLES, unknownVariableWarnings } from "../../src/config/variables.ts";

const ROOT = join(import.meta.dir, "../..");

/** Every variable loadConfig reads, with the default it applies (undefined = required). */
function variablesRead(): Map<string, string | undefined> {
  const read = new Map<string, string | undefined>();
  for (const needs of [NEEDS_ALL, { gitlab: false, auth: false }]) {
    try {
      loadConfig({}, needs, (name, fallback) => {
        if (needs === NEEDS_ALL || !read.has(name)) read.set(name, fallback);
      });
    } catch {
      // required variables are missing from the empty environment: expected
    }
  }
  return read;
}

describe("configuration reference", () => {
  test("every variable loadConfig reads is listed in src/config/variables.ts, and every listed one is read", () => {
    const read = [...variablesRead().keys()].sort();
    const listed = CONFIG_VARIABLES.map((v) => v.name).sort();
    expect(read.filter((n) => !listed.includes(n))).toEqual([]); // read but not documented
    expect(listed.filter((n) => !read.includes(n))).toEqual([]); // documented but not read
  });

  test("each listed default is the one loadConfig applies", () => {
    const read = variablesRead();
    const wrong = CONFIG_VARIABLES.filter((v) => {
      const fallback = read.get(v.name);
      const applied = fallback === undefined ? "required" : fallback === "" ? "empty" : fallback;
      return applied !== v.default;
    }).map((v) => `${v.name}: listed ${v.default}, loadConfig applies ${read.get(v.name) ?? "required"}`);
    expect(wrong).toEqual([]);
  });

  test("docs/reference.md's table is the rendering of the list (`bun scripts/gen-reference.ts` writes it)", () => {
    const current = readFileSync(REFERENCE_PATH, "utf8");
    expect(current).toBe(renderReference(current));
    const documented = [...current.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(CONFIG_VARIABLES.map((v) => v.name).sort());
  });

  test("user documents stay inside the repository: the README links the reference, nothing names ../shared", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect({ readmeLinksReference: readme.includes("(docs/reference.md)") }).toEqual({
      readmeLinksReference: true,
    });
    const docs = readdirSync(join(ROOT, "docs")).map((f) => join(ROOT, "docs", f));
    for (const file of [join(ROOT, "README.md"), ...docs, join(ROOT, "src/cli.ts")]) {
      expect({ file, mentions: readFileSync(file, "utf8").includes("../shared") }).toEqual({
        file,
        mentions: false,
      });
    }
  });
});

test("every variable the Helm chart sets is one item-sync reads", () => {
  const chart = join(ROOT, "charts/item-sync");
  const texts = [
    readFileSync(join(chart, "values.yaml"), "utf8"),
    ...readdirSync(join(chart, "templates"))
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => readFileSync(join(chart, "templates", f), "utf8")),
  ];
  const names = new Set<string>();
  for (const text of texts) {
    for (const m of text.matchAll(/^\s+([A-Z][A-Z0-9_]{2,}):/gm)) names.add(m[1] as string);
    for (const m of text.matchAll(/name: ([A-Z][A-Z0-9_]{2,})\s*$/gm)) names.add(m[1] as string);
  }
  expect(names.size).toBeGreaterThan(10);
  const known = new Set(CONFIG_VARIABLES.map((v) => v.name));
  expect([...names].filter((n) => !known.has(n)).sort()).toEqual([]);
});

describe("unknown variables", () => {
  test("a misspelt variable of ours is named with the one it probably meant", () => {
    const warnings = unknownVariableWarnings({ SYNC_CRONN: "0 3 * * *", GITLAB_TOKN: "x" });
    expect(warnings).toEqual([
      "GITLAB_TOKN is not a variable item-sync reads: did you mean GITLAB_TOKEN? (ignored)",
      "SYNC_CRONN is not a variable item-sync reads: did you mean SYNC_CRON? (ignored)",
    ]);
  });

  test("an unknown name with one of our prefixes is reported; other programs' variables and Kubernetes service links are not", () => {
    const warnings = unknownVariableWarnings({
      ITEM_SYNC_DATABASE: "x",
      PATH: "/usr/bin",
      HOSTNAME: "pod-1",
      HOME: "/root",
      ITEM_SYNC_PORT: "tcp://10.0.0.1:8080",
      ITEM_SYNC_SERVICE_HOST: "10.0.0.1",
      ITEM_SYNC_PORT_8080_TCP_ADDR: "10.0.0.1",
      PORT: "8080",
      SYNC_CRON: "off",
    });
    expect(warnings).toEqual([
      "ITEM_SYNC_DATABASE is not a variable item-sync reads (ignored); see docs/reference.md for the list",
    ]);
  });
});
