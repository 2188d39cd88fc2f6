/**
 * GITLAB_IGNORE_PROJECTS, as operators of the replaced system wrote it: an entry with a `/` is a
 * project's full path (`imrt/items/item-123`), an entry without one is its short path (the last
 * segment: `item-123`), and case never matters (GitLab's own paths are case-insensitive). The
 * scan, the deletion pass (through membership), the webhook receiver and membership() all ask
 * this one function, so a project is ignored everywhere or nowhere.
 */

/** True when `path` (a project's path_with_namespace) is named by an entry of `ignoreList`. */
export function isIgnoredProject(ignoreList: readonly string[], path: string): boolean {
  if (ignoreList.length === 0) return false;
  const full = trimSlashes(path).toLowerCase();
  const short = full.slice(full.lastIndexOf("/") + 1);
  return ignoreList.some((entry) => {
    const e = trimSlashes(entry.trim()).toLowerCase();
    if (e === "") return false;
    return e.includes("/") ? e === full : e === short;
  });
}

const trimSlashes = (s: string) => s.replace(/^\/+|\/+$/g, "");
