/**
 * The README is a map: short, and every link in it and in docs/ leads somewhere. A relative link
 * must name a file of the repository and, with a `#fragment`, a heading of that file (GitHub's
 * anchor rule: lower case, punctuation dropped, spaces to hyphens).
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

const ROOT = join(import.meta.dir, "../..");
const DOCS = [
  join(ROOT, "README.md"),
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => join(ROOT, "docs", f)),
];

/** GitHub's heading anchor: lower case, keep letters, digits, spaces, `-` and `_`; spaces → `-`. */
export function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const m of text.matchAll(/^#{1,6} (.+)$/gm)) {
    const base = anchorOf((m[1] ?? "").replace(/`/g, ""));
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

function linksOf(file: string): string[] {
  const text = readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? "").filter((l) => !/^[a-z]+:/i.test(l));
}

describe("documentation", () => {
  test("README.md is a map: at most 250 lines", () => {
    expect(readFileSync(join(ROOT, "README.md"), "utf8").split("\n").length).toBeLessThanOrEqual(250);
  });

  test("the anchor rule", () => {
    expect(anchorOf("Troubleshooting: the old recovery SQL and what replaces it")).toBe(
      "troubleshooting-the-old-recovery-sql-and-what-replaces-it",
    );
    expect(anchorOf("Map of src/")).toBe("map-of-src");
  });

  test("every relative link in README.md and docs/ names an existing file and heading", () => {
    const broken: string[] = [];
    for (const file of DOCS) {
      for (const link of linksOf(file)) {
        const [path, fragment] = link.split("#") as [string, string | undefined];
        const target = path === "" ? file : join(dirname(file), path);
        const where = `${relative(ROOT, file)} → ${link}`;
        if (!existsSync(target)) {
          broken.push(`${where}: no such file`);
          continue;
        }
        if (fragment && target.endsWith(".md") && !anchorsOf(target).has(fragment)) {
          broken.push(`${where}: no such heading`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});
