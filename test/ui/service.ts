/**
 * What each browser test stands on: the GitLab simulator, the compiled binary's `serve` (SQLite
 * in a folder of its own, which is also its working directory, so the dashboard's assets come
 * from the binary and not from the checkout) and Chromium. `close` takes all of it down.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import {
  brokerNames,
  deleteBrokerNames,
  type RunningProcess,
  serviceEnv,
  startBinary,
  TEST_WEBHOOK_URL,
} from "../helpers/binary.ts";
import { type GitlabSim, type SimOptions, startGitlabSim } from "../sim/gitlab.ts";
import { startChromium } from "./browser.ts";

export interface UiService {
  sim: GitlabSim;
  /** the working directory of `serve` (and of any other process the test starts) */
  dir: string;
  serve: RunningProcess;
  browser: Browser;
  names: ReturnType<typeof brokerNames>;
  /** the environment every item-sync process of the test shares (`serve` also got `serveEnv`) */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startUiService(opts: {
  /** names this test's broker objects and temporary folder */
  prefix: string;
  /** the simulator's seed and controls; its webhook URL is TEST_WEBHOOK_URL */
  sim: SimOptions;
  /** for every process of the test, beyond serviceEnv's and the SQLite DATABASE_URL */
  env?: Record<string, string>;
  /** for `serve` only */
  serveEnv?: Record<string, string>;
}): Promise<UiService> {
  const names = brokerNames(opts.prefix);
  const sim = startGitlabSim({ webhookUrl: TEST_WEBHOOK_URL, ...opts.sim });
  const dir = mkdtempSync(join(tmpdir(), `item-sync-${opts.prefix}-`));
  let serve: RunningProcess | undefined;
  const close = async () => {
    await serve?.kill("SIGKILL");
    await sim.close();
    await deleteBrokerNames(names).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const env = serviceEnv(sim, names, { DATABASE_URL: `sqlite:${join(dir, "ui.db")}`, ...opts.env });
    serve = await startBinary(["serve"], { ...env, ...opts.serveEnv }, { cwd: dir });
    const testBrowser = await startChromium();
    const running = serve;
    return {
      sim,
      dir,
      serve: running,
      browser: testBrowser.browser,
      names,
      env,
      async close() {
        await testBrowser.close();
        await close();
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}
