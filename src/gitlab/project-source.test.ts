/**
 * The project source's seams when prefetched pages are answered out of order (pure logic: a
 * listing in memory whose pages are answered when the test says, and probes answered at once).
 * A page answered before the page ahead of it may predate projects moved in before the seam.
 */
import { expect, test } from "bun:test";
import { createProjectSource, type RawPage } from "./project-source.ts";

const PER_PAGE = 10;

/** A group listing by id whose page answers the test releases one by one. */
function heldListing(ids: number[]) {
  let listing = [...ids].sort((a, b) => a - b);
  const waiting = new Map<number, () => void>();
  const fetched: number[] = [];
  const pageOf = (page: number): RawPage => {
    const projects = listing.slice((page - 1) * PER_PAGE, page * PER_PAGE).map((id) => ({
      id,
      path: `items/p${id}`,
      name: `p${id}`,
      defaultBranch: "main",
      namespaceFullPath: "items",
    }));
    return { projects, next: page * PER_PAGE < listing.length ? page + 1 : null, total: listing.length };
  };
  return {
    fetched,
    source: createProjectSource({
      // the page's content is what the listing holds when the answer is released
      fetchPage: (page) =>
        new Promise((resolve) => {
          fetched.push(page);
          waiting.set(page, () => resolve(pageOf(page)));
        }),
      probe: async (offset) => listing[offset] ?? null,
      perPage: PER_PAGE,
      prefetch: 3,
    }),
    /** Waits until the scan has asked for `page`. */
    async asked(page: number) {
      for (let i = 0; !waiting.has(page); i++) {
        if (i > 1000) throw new Error(`page ${page} was never asked for`);
        await Bun.sleep(0);
      }
    },
    /** Answers `page` with the listing as it stands now; what follows the answer runs later. */
    release(page: number) {
      const release = waiting.get(page);
      waiting.delete(page);
      release?.();
    },
    async answer(page: number) {
      await this.asked(page);
      this.release(page);
      await Bun.sleep(0);
    },
    /** Answers every page asked for, in page order (re-reads included). */
    async answerAll() {
      for (const page of [...waiting.keys()].sort((a, b) => a - b)) await this.answer(page);
    },
    moveIn(...moved: number[]) {
      listing = [...listing, ...moved].sort((a, b) => a - b);
    },
  };
}

async function scanWith(g: ReturnType<typeof heldListing>, answers: () => Promise<void>) {
  const seen: number[] = [];
  const scan = (async () => {
    for await (const page of g.source.pages()) seen.push(...page.projects.map((p) => p.id));
  })();
  await answers();
  let done = false;
  void scan.then(() => {
    done = true;
  });
  // then whatever else the scan asks for (re-reads, speculative pages) is answered as asked
  for (let i = 0; !done; i++) {
    if (i > 1000) throw new Error("the scan did not end");
    await g.answerAll();
    await Bun.sleep(0);
  }
  await scan;
  return seen;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test("a prefetched page answered before the one ahead of it, projects moved in between: nothing lost or repeated", async () => {
  const before = range(1, 40).filter((id) => ![2, 4, 6].includes(id));
  const g = heldListing(before);
  const seen = await scanWith(g, async () => {
    await g.answer(1);
    await g.asked(3);
    g.release(3); // page 3 as the listing stood…
    g.moveIn(2, 4, 6); // …then, before its seam is probed, three projects move in before it
    await g.answer(2); // page 2 shifted: it now ends three projects earlier
  });
  expect(seen.filter((id, i) => seen.indexOf(id) !== i)).toEqual([]);
  expect(before.filter((id) => !seen.includes(id))).toEqual([]);
});

test("pages answered out of order with nothing moved: accepted as answered, no page read twice", async () => {
  const ids = range(1, 40);
  const g = heldListing(ids);
  const seen = await scanWith(g, async () => {
    await g.answer(1);
    await g.answer(3);
    await g.answer(2);
    await g.answer(4);
  });
  expect(seen).toEqual(ids);
  expect(g.fetched.filter((page, i) => g.fetched.indexOf(page) !== i)).toEqual([]);
});
