/**
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
