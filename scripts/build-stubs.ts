/**
 * Build-time stubs.
 *
 * gitbeaker's requester-utils imports a client-side rate limiter (rate-limiter-flexible) and a
 * glob matcher (picomatch-browser) for its own requester, which item-sync replaces with its own
 * (src/gitlab/requester.ts: pacing, retries, Retry-After). The build swaps both for stubs that
 * throw when used, so their code is neither in the binary nor loaded at run time.
 */
import type { BunPlugin } from "bun";

/** Dependencies of dependencies that item-sync never calls. */
export const STUBBED_MODULES = ["rate-limiter-flexible", "picomatch-browser"] as const;

const STUB = `
const unused = (name) => () => {
  throw new Error(name + " is not part of item-sync's build: gitbeaker's own requester is replaced");
};
export const RateLimiterQueue = unused("rate-limiter-flexible");
export const RateLimiterMemory = unused("rate-limiter-flexible");
const picomatch = { isMatch: unused("picomatch-browser") };
export default picomatch;
`;

export const stubUnusedDependencies: BunPlugin = {
  name: "stub-unused-dependencies",
  setup(build) {
    const filter = new RegExp(`^(${STUBBED_MODULES.join("|")})$`);
    build.onResolve({ filter }, (args) => ({ path: args.path, namespace: "item-sync-stub" }));
    build.onLoad({ filter: /.*/, namespace: "item-sync-stub" }, () => ({ contents: STUB, loader: "js" }));
  },
};

/**
 * `bun scripts/build.ts --without-tracing`: a binary with no tracing at all, for the benchmark's
 * "absent" column (bench/scenarios/otel-cost.ts). src/lib/tracing.ts, the one door every
 * instrumented module goes through, becomes pass-through functions, and src/observability/tracing-sdk.ts
 * one that refuses to start: neither @opentelemetry/api nor the SDK is in that binary.
 * src/lib/tracing-stub.test.ts checks that the stub exports what the real module does.
 */
export const TRACING_STUB = `
export const KIND = { internal: 0, server: 1, client: 2, producer: 3, consumer: 4 };
export const tracingEnabled = () => false;
export const enableTracing = () => {
  throw new Error("this binary was built without tracing");
};
export const stopTracing = async () => {};
export const startSpan = () => undefined;
export const withActive = (_span, fn) => fn();
export const inSpan = (_name, _spec, fn) => fn(undefined);
export const failSpan = () => {};
export const errorStatus = () => {};
export const nameRoute = () => {};
export const activeSpan = () => undefined;
export const linkToActive = () => undefined;
export const traceHeaders = () => undefined;
export const contextFrom = () => undefined;
export const traceLogFields = () => undefined;
`;

const TRACING_SDK_STUB = `
export function samplerFor() {
  throw new Error("this binary was built without tracing (scripts/build.ts --without-tracing)");
}
export function startTracing() {
  throw new Error("this binary was built without tracing (scripts/build.ts --without-tracing): unset OTEL_EXPORTER_OTLP_ENDPOINT");
}
`;

export const withoutTracing: BunPlugin = {
  name: "without-tracing",
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]lib[\\/]tracing\.ts$/ }, () => ({
      contents: TRACING_STUB,
      loader: "js",
    }));
    build.onLoad({ filter: /[\\/]src[\\/]observability[\\/]tracing-sdk\.ts$/ }, () => ({
      contents: TRACING_SDK_STUB,
      loader: "js",
    }));
  },
};
