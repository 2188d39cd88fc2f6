/**
 * `item-sync sync [--wait] [--fresh] [--allow-mass-delete] [--mode incremental|full]`: one execution
 * in this process; `item-sync sync --project ID`: the messages of one project, no execution.
 */

import { executionJson } from "../batch/execution-json.ts";
import { heartbeatText } from "../batch/heartbeat.ts";
import type { ScanMode } from "../batch/types.ts";
import { EXIT, type ParsedArgs, parseId } from "../cli.ts";
import type { Config } from "../config/config.ts";
import { syncOneProject } from "../items/project-sync.ts";
import type { Logger } from "../lib/log.ts";
import { SECOND } from "../lib/time.ts";
import { createLifecycle } from "../lifecycle.ts";
import { createProjectSyncMessage } from "../queue/messages.ts";
import { progressLine } from "./cli-format.ts";
import { buildCore, type Core } from "./compose.ts";

export async function syncCommand(config: Config, logger: Logger, args: ParsedArgs): Promise<number> {
  const lifecycle = createLifecycle(logger);
  try {
    const core = await buildCore(config, lifecycle, logger, { quiet: true });
    lifecycle.defer("job runner", () => core.runner.shutdown());
    if (args.flags.project !== undefined)
      return await syncProject(core, parseId(String(args.flags.project), "--project"));
    const params: Record<string, string> = {};
    if (args.flags["allow-mass-delete"]) params.allowMassDelete = "true";
    const result = await core.jobs.launch({
      trigger: "cli",
      launchedBy: "cli",
      fresh: args.flags.fresh === true,
      params,
      mode: args.flags.mode as ScanMode | undefined,
    });
    if (result.kind !== "started") {
      const id = result.kind === "running" ? result.runningId : result.executionId;
      const running = await core.repository.get(id);
      const alive = running ? ` (${heartbeatText(running, config.jobLeaseMs)})` : "";
      process.stderr.write(
        `item-sync: job execution ${id} is already running${alive}; nothing started. Follow it with \`item-sync jobs show ${id}\`, stop it with \`item-sync jobs stop ${id}\`\n`,
      );
      return EXIT.alreadyRunning;
    }
    const id = result.execution.id;
    process.stderr.write(
      `item-sync: started job execution ${id}${result.execution.restartOf ? ` (resuming ${result.execution.restartOf})` : ""}\n`,
    );
    // A signal stops the execution at its next checkpoint (STOPPED, restartable) and exits 1.
    const onSignal = () => void core.runner.shutdown();
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    const progress = args.flags.wait
      ? setInterval(() => {
          const p = core.runner.liveProgress(id);
          if (p) process.stderr.write(progressLine(id, p));
        }, SECOND)
      : undefined;
    await core.runner.whenDone(id);
    clearInterval(progress);
    const final = await core.repository.get(id);
    process.stdout.write(`${JSON.stringify(final ? executionJson(final) : { id })}\n`);
    return final?.status === "COMPLETED" ? EXIT.ok : EXIT.failed;
  } finally {
    await lifecycle.shutdown("sync finished");
  }
}

async function syncProject(core: Core, projectId: number): Promise<number> {
  const result = await syncOneProject(
    {
      gitlab: core.gitlab,
      publish: (type, project) => core.publisher.publish(createProjectSyncMessage(type, project)),
    },
    projectId,
  );
  if (!result) {
    process.stderr.write(
      `item-sync: project ${projectId} is not in the item group (or does not exist); nothing published\n`,
    );
    return EXIT.failed;
  }
  process.stdout.write(`${JSON.stringify({ projectId, published: result.published })}\n`);
  return EXIT.ok;
}
