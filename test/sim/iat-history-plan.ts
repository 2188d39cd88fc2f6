/**
 * The plan of a simulated item's history (iat-history.ts makes commits of it): which commits an
 * item took to reach its head revision, oldest first — its creation (or a one-commit import),
 * workflow moves along §6.5's path, content and translation edits, accessibility uploads, content
 * update needs once administered, README edits and the removal of the `create` file — who made
 * each, when (ending before the project's creation: the repositories were imported), and the tree
 * state after each. Some longer histories put one edit on a side branch merged back.
 */
import type { SimPerson } from "./gitlab-model.ts";
import {
  IAT_SERVICE,
  IAT_USERS,
  type ItemFacts,
  type ItemRevision,
  iatUser,
  reachedBy,
  WORKFLOW_PATH,
  type WorkflowCode,
} from "./iat-items.ts";
import { createRng, type Rng } from "./sim-random.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

type OpKind =
  | "create"
  | "import"
  | "status"
  | "content"
  | "spanish"
  | "upload"
  | "need"
  | "readme"
  | "finish"
  | "merge"
  | "break";

/** The tree of one commit, before rendering. */
export interface TreeState {
  rev: ItemRevision | null; // null: no item.json
  broken: boolean;
  readme: number;
  create: boolean;
}

export interface Planned {
  kind: OpKind;
  status?: WorkflowCode;
  parents: number[]; // indexes into the plan
  at: number;
  /** the author's date, when it precedes the commit (an edit saved, then committed later) */
  authoredAt?: number;
  author: SimPerson;
  committer: SimPerson;
  title: string;
  tree: TreeState;
}

/** People who edit README.md through GitLab's web editor: author and committer alike. */
const WEB_EDITORS: SimPerson[] = [
  { name: "Pat Reyes", email: "pat.reyes@smarter.example.org" },
  { name: "Dana Kowalski", email: "dana.kowalski@acme-schools.example.org" },
];

const REVIEW_CODES = new Set<WorkflowCode>(WORKFLOW_PATH.slice(1, 19));

/** The statuses an item went through on its way to `head`, Draft first. */
function pathTo(head: WorkflowCode, rng: Rng): WorkflowCode[] {
  const i = WORKFLOW_PATH.indexOf(head);
  if (i >= 0) return WORKFLOW_PATH.slice(0, i + 1);
  const before: WorkflowCode =
    head === "Archived"
      ? rng.pick(["Operational", "Released"] as const)
      : (WORKFLOW_PATH[rng.int(1, head === "Rejected" ? 18 : 12)] ?? "Draft");
  return [...WORKFLOW_PATH.slice(0, WORKFLOW_PATH.indexOf(before) + 1), head];
}

const GAPS: Record<OpKind, [number, number]> = {
  create: [0, 0],
  import: [0, 0],
  status: [1 * DAY, 21 * DAY],
  content: [2 * HOUR, 10 * DAY],
  spanish: [1 * DAY, 20 * DAY],
  upload: [1 * DAY, 30 * DAY],
  need: [10 * DAY, 90 * DAY],
  readme: [1 * DAY, 60 * DAY],
  finish: [5 * MINUTE, 2 * HOUR],
  merge: [10 * MINUTE, 2 * DAY],
  break: [1 * DAY, 30 * DAY],
};

/** The kinds of the commits after the first, oldest first, with the status each move sets. */
function planKinds(f: ItemFacts, rng: Rng): Array<{ kind: OpKind; status?: WorkflowCode }> {
  const path = pathTo(f.headStatus, rng);
  const slots = Math.max(0, f.commitCount - 1 - (f.presence === "invalid" ? 1 : 0));
  const finish = !f.beingCreated && slots >= 2 && rng.chance(0.35);
  const free = slots - (finish ? 1 : 0);
  const moves = Math.min(free, path.length - 1, f.statusMoves ?? Number.POSITIVE_INFINITY);
  // always the move to head; the others spread along the path
  const targets = [...rng.sample(path.slice(1, -1), moves - 1), ...(moves > 0 ? [f.headStatus] : [])];
  const others: OpKind[] = Array.from({ length: free - moves }, () =>
    rng.weighted<OpKind>([
      ["content", 40],
      ["readme", 15],
      ["upload", 15],
      ["spanish", f.translated ? 15 : 0],
      ["need", f.family === "tut" ? 0 : 10],
    ]),
  );
  const movesAt = new Set(rng.sample([...Array(free).keys()], moves));
  const ops: Array<{ kind: OpKind; status?: WorkflowCode }> = [];
  let t = 0;
  let o = 0;
  let reached: 0 | 1 | 2 = 0;
  for (let i = 0; i < free; i++) {
    if (movesAt.has(i)) {
      const status = targets[t++] ?? f.headStatus;
      reached = reachedBy(status, reached);
      ops.push({ kind: "status", status });
    } else {
      const kind = others[o++] ?? "content";
      // a content update need is raised on an item that has been administered
      ops.push({ kind: kind === "need" && reached === 0 ? "content" : kind });
    }
  }
  if (finish) ops.unshift({ kind: "finish" });
  if (f.presence === "invalid" && f.commitCount > 1) ops.push({ kind: "break" });
  return ops;
}

function firstRevision(
  f: ItemFacts,
  at: number,
  imported: boolean,
  translateLater: boolean,
  rng: Rng,
): ItemRevision {
  const status = imported ? f.headStatus : "Draft";
  const reached = reachedBy(status, 0);
  return {
    status,
    reached,
    en: 0,
    enAt: at,
    esp: f.translated && !translateLater ? 1 : 0,
    espAt: at,
    uploads: imported && reached > 0 && rng.chance(0.5) ? [at - 20 * DAY] : [],
    needs: imported && reached > 0 && f.family !== "tut" && rng.chance(0.15) ? [at - 40 * DAY] : [],
    assignments:
      imported && REVIEW_CODES.has(status) ? [{ at, to: rng.pick(IAT_USERS.editors), by: "admin" }] : [],
    createdAt: at,
  };
}

function apply(
  kind: OpKind,
  prev: ItemRevision,
  at: number,
  status: WorkflowCode | undefined,
  rng: Rng,
): ItemRevision {
  const r = { ...prev };
  switch (kind) {
    case "status": {
      r.status = status ?? r.status;
      r.reached = reachedBy(r.status, r.reached);
      if (REVIEW_CODES.has(r.status)) {
        r.assignments = [...r.assignments, { at, to: rng.pick(IAT_USERS.editors), by: "admin" }].slice(-3);
      }
      break;
    }
    case "content":
      r.en += 1;
      r.enAt = at;
      break;
    case "spanish":
      r.esp += 1;
      r.espAt = at;
      break;
    case "upload":
      r.uploads = [...r.uploads, at];
      break;
    case "need":
      r.needs = [...r.needs, at];
      break;
  }
  return r;
}

/** A merge takes the main line's status and whatever the side branch added. */
function combine(main: ItemRevision, side: ItemRevision): ItemRevision {
  const newer = <T>(a: T[], b: T[]) => (b.length > a.length ? b : a);
  return {
    ...main,
    en: Math.max(main.en, side.en),
    enAt: side.en > main.en ? side.enAt : main.enAt,
    esp: Math.max(main.esp, side.esp),
    espAt: side.esp > main.esp ? side.espAt : main.espAt,
    uploads: newer(main.uploads, side.uploads),
    needs: newer(main.needs, side.needs),
    assignments: newer(main.assignments, side.assignments),
  };
}

function authorOf(kind: OpKind, f: ItemFacts, status: WorkflowCode | undefined, rng: Rng): SimPerson {
  switch (kind) {
    case "readme":
      return rng.pick(WEB_EDITORS);
    case "status":
      return iatUser(
        status === "Operational" || status === "Released" || status === "Archived"
          ? "admin"
          : rng.pick(IAT_USERS.editors),
      );
    case "spanish":
      return iatUser(rng.pick(["lgarcia", "bortiz"]));
    case "upload":
      return iatUser(rng.pick(["abrown", "swilliams"]));
    case "need":
      return iatUser("admin");
    case "content":
      return iatUser(rng.chance(0.6) ? f.creator : rng.pick(IAT_USERS.editors));
    case "merge":
      return iatUser(rng.pick(IAT_USERS.editors));
    default:
      return iatUser(f.creator);
  }
}

const UPLOAD_KIND = ["ASL video", "braille file", "closed captions", "ASL video"];

function titleOf(
  kind: OpKind,
  f: ItemFacts,
  prev: WorkflowCode | undefined,
  status: WorkflowCode | undefined,
  uploads: number,
) {
  const item = `item ${f.itemId}`;
  switch (kind) {
    case "create":
      return `Create ${item}`;
    case "import":
      return `Import ${item} from IAT`;
    case "status":
      return `Change workflow status of ${item} from ${prev} to ${status}`;
    case "spanish":
      return `Update Spanish translation of ${item}`;
    case "upload":
      return `Upload ${UPLOAD_KIND[(uploads - 1) % 4]} for ${item}`;
    case "need":
      return `Add content update need to ${item}`;
    case "readme":
      return "Update README.md";
    case "finish":
      return `Finish creating ${item}`;
    case "merge":
      return `Merge branch 'edit-${f.itemId}' into 'main'`;
    default:
      return `Update ${item}`;
  }
}

/** Builds the plan: one entry per commit, oldest first, parents pointing backwards. */
export function plan(f: ItemFacts, endBy: number): Planned[] {
  const rng = createRng(f.projectId, "history");
  const kinds: Array<{ kind: OpKind; status?: WorkflowCode }> =
    f.presence === "none"
      ? Array.from({ length: Math.min(f.commitCount, 3) - 1 }, () => ({ kind: "readme" as const }))
      : planKinds(f, rng);
  const first: OpKind = f.presence === "none" || f.commitCount > 1 ? "create" : "import";

  // dates: gaps first, then the start, so the head lands before the project's creation (an import)
  const gaps = kinds.map(({ kind }) => {
    const [lo, hi] = GAPS[kind];
    return lo + Math.floor(rng.next() * (hi - lo));
  });
  // every gap, a couple of minutes of jitter per commit, and a merge's gap should there be one
  const span = gaps.reduce((a, b) => a + b, 0) + 2 * MINUTE * kinds.length + GAPS.merge[1];
  const earliest = Date.UTC(2017, 8, 1);
  const latest = Math.min(Date.UTC(2023, 5, 30), endBy - span - DAY);
  const start = Math.max(earliest, Math.min(latest, earliest + rng.next() * (latest - earliest)));
  const second = (ms: number) => Math.floor(ms / 1000) * 1000;

  const out: Planned[] = [];
  let at = second(start);
  const firstTree: TreeState = {
    rev:
      f.presence === "none"
        ? null
        : firstRevision(
            f,
            at,
            first === "import",
            kinds.some((k) => k.kind === "spanish"),
            rng,
          ),
    broken: f.presence === "invalid" && first === "import",
    readme: 0,
    create: f.beingCreated || kinds[0]?.kind === "finish",
  };
  out.push({
    kind: first,
    parents: [],
    at,
    author: f.presence === "none" ? (WEB_EDITORS[0] as SimPerson) : iatUser(f.creator),
    committer: f.presence === "none" ? (WEB_EDITORS[0] as SimPerson) : IAT_SERVICE,
    title: f.presence === "none" ? "Initial commit" : titleOf(first, f, undefined, undefined, 0),
    tree: firstTree,
  });

  // some longer histories edit on a side branch: one commit, merged after the next main-line one
  const sideAt =
    kinds.length >= 4 && kinds.length <= 10 && rng.chance(0.15) ? rng.int(0, kinds.length - 3) : -1;
  let mainTip = 0;
  let sideTip = -1;
  kinds.forEach(({ kind, status }, i) => {
    at = second(at + (gaps[i] ?? 0) + rng.int(1, 120) * 1000);
    const onSide = sideAt >= 0 && i === sideAt && kind !== "status" && kind !== "finish";
    const parentIdx = mainTip; // a side commit forks from the main line's tip too
    const parent = out[parentIdx];
    if (!parent) throw new Error("plan without a parent");
    const prevRev = parent.tree.rev;
    const rev = prevRev ? apply(kind, prevRev, at, status, rng) : null;
    const person = authorOf(kind, f, status, rng);
    out.push({
      kind,
      status,
      parents: [parentIdx],
      at,
      // Some edits are committed hours after they were made: author date and commit date then
      // differ, and only the commit date orders a history (GitLab's since/until use it).
      ...(kind === "content" && rng.chance(0.2) ? { authoredAt: at - rng.int(1, 48) * HOUR } : {}),
      author: person,
      committer: kind === "readme" ? person : IAT_SERVICE,
      title: titleOf(kind, f, prevRev?.status, status, rev?.uploads.length ?? 0),
      tree: {
        rev,
        broken: parent.tree.broken || kind === "break",
        readme: parent.tree.readme + (kind === "readme" ? 1 : 0),
        create: parent.tree.create && kind !== "finish",
      },
    });
    if (onSide) sideTip = out.length - 1;
    else mainTip = out.length - 1;
    // the merge follows the next main-line commit after the side edit
    if (sideTip >= 0 && !onSide) {
      const main = out[mainTip];
      const side = out[sideTip];
      if (!main || !side) throw new Error("merge without parents");
      at = second(at + GAPS.merge[0] + Math.floor(rng.next() * (GAPS.merge[1] - GAPS.merge[0])));
      const person = authorOf("merge", f, undefined, rng);
      out.push({
        kind: "merge",
        parents: [mainTip, sideTip],
        at,
        author: person,
        committer: person,
        title: titleOf("merge", f, undefined, undefined, 0),
        tree: {
          rev: main.tree.rev && side.tree.rev ? combine(main.tree.rev, side.tree.rev) : main.tree.rev,
          broken: main.tree.broken,
          readme: Math.max(main.tree.readme, side.tree.readme),
          create: main.tree.create && side.tree.create,
        },
      });
      mainTip = out.length - 1;
      sideTip = -1;
    }
  });
  return out;
}
