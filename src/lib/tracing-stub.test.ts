import { expect, test } from "bun:test";
import { TRACING_STUB } from "../../scripts/build-stubs.ts";
import * as tracing from "./tracing.ts";

test("the build without tracing replaces src/lib/tracing.ts with a stub exporting the same names", () => {
  const stubbed = [...TRACING_STUB.matchAll(/^export const (\w+)/gm)].map((m) => m[1]).sort();
  expect(stubbed).toEqual(Object.keys(tracing).sort());
});

test("the stub's helpers pass through: the work runs, no span, no header, no log ids", async () => {
  const stub = await import(`data:text/javascript,${encodeURIComponent(TRACING_STUB)}`);
  expect(await stub.inSpan("x", {}, async (span: unknown) => span ?? "ran")).toBe("ran");
  expect(stub.withActive(undefined, () => 7)).toBe(7);
  expect(stub.traceHeaders()).toBeUndefined();
  expect(stub.traceLogFields()).toBeUndefined();
  expect(stub.KIND).toEqual(tracing.KIND);
});
