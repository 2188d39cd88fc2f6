/**
 * `bun run build`: embeds the migrations, then compiles src/main.ts into one executable,
 * dist/item-sync. No minification (it breaks Elysia), no .env or bunfig autoload in the binary,
 * and gitbeaker's unused rate limiter and glob matcher left out (build-stubs.ts).
 *
 *   bun scripts/build.ts [--without-tracing] [--outfile PATH]
 *
 * `--without-tracing` builds a binary with no OpenTelemetry code at all (the benchmark compares
 * it with tracing off); the default output stays dist/item-sync.
 */
import { $ } from "bun";
import { stubUnusedDependencies, withoutTracing } from "./build-stubs.ts";

const argv = process.argv.slice(2);
const outfile = argv.includes("--outfile") ? (argv[argv.indexOf("--outfile") + 1] ?? "") : "dist/item-sync";
if (outfile === "") throw new Error("--outfile needs a path");
const plugins = [stubUnusedDependencies, ...(argv.includes("--without-tracing") ? [withoutTracing] : [])];

await $`bun scripts/gen-migrations.ts`;
const result = await Bun.build({
  entrypoints: ["src/main.ts"],
  compile: { outfile, autoloadDotenv: false, autoloadBunfig: false },
  plugins,
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
const size = Bun.file(outfile).size;
console.log(
  `built ${outfile} (${Math.round(size / 1024 / 1024)} MB)${plugins.includes(withoutTracing) ? ", without tracing" : ""}`,
);
