/**
 * Where a generated report (BENCHMARKS.md, RELIABILITY.md, CI-RUNS.md) comes from: the commit checked out and
 * whether the work tree held changes. A report is evidence for a commit only when the tree was
 * clean, so the generators refuse a dirty tree; `--allow-dirty` (for development) runs anyway
 * and the report's first line then says "dirty". The reports themselves are not counted as
 * changes: one generator runs after another.
 */

const REPORTS = new Set(["BENCHMARKS.md", "RELIABILITY.md", "CI-RUNS.md"]);

export interface Provenance {
  commit: string;
  subject: string;
  dirty: boolean;
  /** changed paths (git status --porcelain), reports excluded */
  changes: string[];
  /** the report's first line */
  line: string;
}

/** `git ARGS` in `root`, its output; throws with git's message when it fails. */
export function git(root: string, ...args: string[]): string {
  const r = Bun.spawnSync(["git", ...args], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed: ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
}

export function readProvenance(root: string): Provenance {
  const commit = git(root, "rev-parse", "HEAD").trim();
  const subject = git(root, "log", "-1", "--format=%s").trim();
  const changes = git(root, "status", "--porcelain")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => l.slice(3))
    .filter((path) => !REPORTS.has(path));
  const dirty = changes.length > 0;
  const line = `Produced from commit \`${commit}\` (${subject})${dirty ? `, **dirty**: ${changes.length} uncommitted change(s)` : ", clean work tree"}.`;
  return { commit, subject, dirty, changes, line };
}

/**
 * The provenance of this run, or exit 2 with a clear message when the tree is dirty and
 * `--allow-dirty` is not among `argv`. Returns argv without that flag.
 */
export function requireProvenance(root: string, argv: string[]): { provenance: Provenance; args: string[] } {
  const allowDirty = argv.includes("--allow-dirty");
  const args = argv.filter((a) => a !== "--allow-dirty");
  const provenance = readProvenance(root);
  if (provenance.dirty && !allowDirty) {
    console.error(
      `The work tree has uncommitted changes (${provenance.changes.slice(0, 10).join(", ")}${provenance.changes.length > 10 ? ", …" : ""}).\n` +
        "A report must come from a commit: commit or stash them, or pass --allow-dirty (the report then says dirty).",
    );
    process.exit(2);
  }
  return { provenance, args };
}
