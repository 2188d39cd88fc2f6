import { expect, test } from "bun:test";
import { parseArgs, UsageError } from "./cli.ts";

test("sync --mode takes incremental or full, in either spelling; anything else is a usage error", () => {
  expect(parseArgs(["sync", "--mode", "full", "--wait"]).flags).toEqual({ mode: "full", wait: true });
  expect(parseArgs(["sync", "--mode=incremental"]).flags).toEqual({ mode: "incremental" });
  expect(() => parseArgs(["sync", "--mode", "auto"])).toThrow(UsageError);
  expect(() => parseArgs(["sync", "--mode"])).toThrow(UsageError);
  expect(() => parseArgs(["jobs", "--mode", "full"])).toThrow(UsageError);
});
