/**
 * The one rule for GITLAB_IGNORE_PROJECTS (full or short paths, any case), as a table: every
 * place that ignores projects asks isIgnoredProject, so this table is the rule everywhere.
 */
import { expect, test } from "bun:test";
import { isIgnoredProject } from "./ignore.ts";

const PATH = "imrt/items/Item-123";

const CASES: Array<[string, readonly string[], string, boolean]> = [
  ["empty list ignores nothing", [], PATH, false],
  ["full path", ["imrt/items/Item-123"], PATH, true],
  ["full path, other case", ["IMRT/Items/item-123"], PATH, true],
  ["short path (the old service's list)", ["item-123"], PATH, true],
  ["short path, other case", ["ITEM-123"], PATH, true],
  ["short path with spaces and slashes around it", ["  /item-123/ "], PATH, true],
  ["full path with a leading slash", ["/imrt/items/item-123"], PATH, true],
  ["one of several entries", ["other", "item-123"], PATH, true],
  ["a short path is not a prefix", ["item-12"], PATH, false],
  ["a short path is not a namespace", ["items"], PATH, false],
  ["a full path in another group", ["imrt/other/item-123"], PATH, false],
  ["a partial full path is not a suffix match", ["items/item-123"], PATH, false],
  ["a full path of the group is not its projects", ["imrt/items"], PATH, false],
  ["an empty entry ignores nothing", [""], PATH, false],
  ["a project in a subgroup by short path", ["item-9"], "imrt/items/sub-1/item-9", true],
];

test.each(CASES)("%s", (_name, list, path, ignored) => {
  expect(isIgnoredProject(list, path)).toBe(ignored);
});
