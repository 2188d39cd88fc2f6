/**
 * The CLI entry point: parse the arguments, load the configuration (every problem at once, exit
 * 2), register secrets for redaction, then run the command (src/commands/).
 */
import { EXIT, type ParsedArgs, parseArgs, USAGE, UsageError, VERSION } from "./cli.ts";
import { jobsCommand, migrateCommand } from "./commands/admin.ts";
import { deadCommand } from "./commands/dead.ts";
import { healthCommand } from "./commands/health.ts";
import { serve } from "./commands/serve.ts";
import { syncCommand } from "./commands/sync.ts";
import { worker } from "./commands/worker.ts";
import { type Config, type ConfigNeeds, loadConfig, secretValues } from "./config/config.ts";
import { unknownVariableWarnings } from "./config/variables.ts";
import { ConfigError, coerceError, StartupError } from "./lib/errors.ts";
import { createLogger, redact, registerSecret } from "./lib/log.ts";
import { collectProcessMetrics } from "./lib/telemetry.ts";
import { stopTracing } from "./lib/tracing.ts";

/** Which settings each command requires. */
const NEEDS: Record<string, ConfigNeeds> = {
  serve: { gitlab: true, auth: true, webhook: true },
  // a worker's monitor-item creates the hooks: without the secret they could never be delivered
  worker: { gitlab: true, auth: false, webhook: true },
  sync: { gitlab: true, auth: false },
  migrate: { gitlab: false, auth: false },
  jobs: { gitlab: false, auth: false },
  dead: { gitlab: false, auth: false },
};

/** The long-running and sync commands: the ones that make spans (admin commands stay quiet). */
const TRACED_COMMANDS = new Set(["serve", "worker", "sync"]);

async function main(argv: string[]): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    process.stderr.write(redact(`item-sync: ${coerceError(err).message}\n\n${USAGE}`));
    return EXIT.usage;
  }
  if (args.command === "help") {
    process.stdout.write(USAGE);
    return EXIT.ok;
  }
  if (args.command === "version") {
    process.stdout.write(`item-sync ${VERSION}\n`);
    return EXIT.ok;
  }
  if (args.command === "health") {
    // A probe of another process: it needs PORT at most, never the service's configuration.
    try {
      return await healthCommand(args.flags.url, process.env);
    } catch (err) {
      process.stderr.write(redact(`item-sync: ${coerceError(err).message}\n`));
      return err instanceof UsageError ? EXIT.usage : EXIT.failed;
    }
  }

  let config: Config;
  try {
    config = loadConfig(process.env, NEEDS[args.command] ?? { gitlab: true, auth: true });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(redact(`item-sync: ${err.message}\n`));
      return EXIT.usage;
    }
    throw err;
  }
  for (const secret of secretValues(config)) registerSecret(secret);
  const logger = createLogger(config.logLevel, { service: "item-sync" });
  for (const warning of unknownVariableWarnings(process.env)) logger.warn(warning);
  collectProcessMetrics();
  if (config.tracing && TRACED_COMMANDS.has(args.command)) {
    // loaded only when configured: without an endpoint no SDK code runs at all
    const { startTracing } = await import("./observability/tracing-sdk.ts");
    startTracing(config.tracing, { version: VERSION, logger });
  }

  try {
    switch (args.command) {
      case "serve":
        return await serve(config, logger);
      case "worker":
        return await worker(config, logger);
      case "sync":
        return await syncCommand(config, logger, args);
      case "migrate":
        return await migrateCommand(config, logger);
      case "jobs":
        return await jobsCommand(config, logger, args);
      case "dead":
        return await deadCommand(config, logger, args);
    }
  } catch (err) {
    // a UsageError, or a ConfigError found once connected (a RabbitMQ queue of another type)
    if (err instanceof UsageError || err instanceof StartupError || err instanceof ConfigError) {
      process.stderr.write(redact(`item-sync: ${err.message}\n`));
      return EXIT.usage;
    }
    const e = coerceError(err);
    logger.error(`${args.command} failed`, { err: e });
    process.stderr.write(redact(`item-sync: ${e.message}\n`));
    return EXIT.failed;
  }
  return EXIT.usage;
}

process.exitCode = await main(process.argv.slice(2));
await stopTracing(); // the last spans leave before the process does (bounded wait)
if (process.exitCode !== undefined) {
  // Commands that return are done; close lingering handles (timers of libraries) by exiting.
  process.exit(process.exitCode);
}
