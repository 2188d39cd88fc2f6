/**
 * `bun run build`: embeds the migrations, then compiles src/main.ts into one executable,
 * dist/item-sync. No minification (it breaks Elysia), no .env or bunfig autoload in the binary,
 * and gitbeaker's unused rate limiter and glob matcher left out (build-stubs.ts).
 */
import { $ } from "bun";
import { stubUnusedDependencies } from "./build-stubs.ts";

await $`bun scripts/gen-migrations.ts`;
const result = await Bun.build({
  entrypoints: ["src/main.ts"],
  compile: { outfile: "dist/item-sync", autoloadDotenv: false, autoloadBunfig: false },
  plugins: [stubUnusedDependencies],
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
const size = Bun.file("dist/item-sync").size;
console.log(`built dist/item-sync (${Math.round(size / 1024 / 1024)} MB)`);
