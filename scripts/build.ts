/**
 * `bun run build`: embeds the migrations, then compiles src/main.ts into one executable,
 * dist/item-sync. No minification (it breaks Elysia), no .env autoload in the binary.
 */
import { $ } from "bun";

await $`bun scripts/gen-migrations.ts`;
await $`bun build --compile --no-compile-autoload-dotenv --no-compile-autoload-bunfig src/main.ts --outfile dist/item-sync`.quiet();
const size = Bun.file("dist/item-sync").size;
console.log(`built dist/item-sync (${Math.round(size / 1024 / 1024)} MB)`);
