/**
 * The shipped binary is `bun build --compile`d: parse5 must work there too, not only under
 * `bun test`. Compiles a one-line program that cleans a §3.6.1 example, runs it, and compares.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const work = mkdtempSync(join(tmpdir(), "clean-text-compile-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

test("clean() works inside a bun build --compile binary", async () => {
  const entry = join(work, "entry.ts");
  const module = join(import.meta.dir, "clean-text.ts");
  writeFileSync(
    entry,
    `import { clean } from ${JSON.stringify(module)};\n` +
      `console.log(clean("<p>&iquest;Qu&eacute; palabra describe al <em>zorro</em>?</p><p>x</p>"));\n`,
  );
  const outfile = join(work, "clean");
  const build = await Bun.build({
    entrypoints: [entry],
    compile: { outfile, autoloadDotenv: false, autoloadBunfig: false },
  });
  expect(build.success).toBe(true);
  const run = Bun.spawnSync([outfile], { stdout: "pipe", stderr: "pipe" });
  expect(run.stderr.toString()).toBe("");
  expect(run.stdout.toString()).toBe("¿Qué palabra describe al zorro? x\n");
});
