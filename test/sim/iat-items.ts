/**
 * The item bank the simulator serves: for each project, the facts of its IAT item (type, item
 * id, subject, grade, linked stimulus, workflow status at head, how many commits it took) decided
 * from the project id alone, and the state one revision of it is in (status, content edits,
 * uploads, needs, assignments), from which its item.json is rendered.
 *
 * Everything is a pure function of (project id, bank options): project 42 holds the same item on
 * every run, and nothing is stored until a test changes it (gitlab-state.ts keeps that promise for
 * 100,000 projects). iat-document.ts renders a revision's item.json (iat-content.ts the per-type
 * content objects); iat-history.ts decides the commits that lead to the head revision.
 */
import type { SimPerson } from "./gitlab-model.ts";
import { ITEM_TYPES, type ItemType } from "./iat-content.ts";
import { PASSAGES } from "./iat-text.ts";
import { createRng, unit } from "./sim-random.ts";

export { ITEM_TYPES, type ItemType };

/** §6.5, in the order an item normally moves through them (the off-path codes last). */
export const WORKFLOW_CODES = [
  "Draft",
  "InitialReview",
  "MultimediaUpload",
  "ContentReview",
  "EditorialReview",
  "SeniorContentReview",
  "SmarterContentAuditReview",
  "SmarterStudentSupportAuditReview",
  "EducatorCommitteeReview",
  "QualityCorrectionsContent",
  "QualityCorrectionsEditorial",
  "QualityCorrectionsSenior",
  "SmarterContentReview",
  "SmarterAccessibilityReview",
  "SmarterCopyEdit",
  "TextToSpeechUpload",
  "AccessibilityUpload",
  "AccessibilityReview",
  "FinalApproval",
  "FieldTest",
  "Calibrations",
  "DataReview",
  "PostFieldTestCorrections",
  "Operational",
  "Released",
  "Archived",
  "Rejected",
  "ParkingLot",
] as const;
export type WorkflowCode = (typeof WORKFLOW_CODES)[number];

/** The codes an item passes through in order; Archived, Rejected and ParkingLot leave the path. */
export const WORKFLOW_PATH: readonly WorkflowCode[] = WORKFLOW_CODES.slice(0, 25);

export const FAMILY: Record<ItemType, "assessment" | "stim" | "tut"> = {
  mc: "assessment",
  ms: "assessment",
  ebsr: "assessment",
  eq: "assessment",
  gi: "assessment",
  htqo: "assessment",
  htqs: "assessment",
  mi: "assessment",
  sa: "assessment",
  ti: "assessment",
  wer: "assessment",
  stim: "stim",
  tut: "tut",
};

/** IAT users: `name` is what IAT writes as a commit's author_name (the user name, as in §6.9). */
export const IAT_USERS = {
  writers: ["jdoe", "mkhan", "lgarcia", "tnguyen", "kim", "bortiz"],
  editors: ["editor1", "editor2", "rpatel", "abrown", "swilliams", "Zoe.Miller"],
  admins: ["admin"],
} as const;

const DOMAINS = ["acme-schools.example.org", "smarter.example.org", "mprogress.example.com"];
export function iatUser(name: string): SimPerson {
  const domain = DOMAINS[name.length % DOMAINS.length] ?? DOMAINS[0];
  return { name, email: `${name.toLowerCase()}@${domain}` };
}

/** The token owner IAT commits through: GitLab records it as the committer of IAT's commits. */
export const IAT_SERVICE: SimPerson = { name: "IAT Service", email: "iat-service@imrt.example.org" };

export const ORGANIZATIONS = [
  { typeId: "Member", name: "Acme Schools" },
  { typeId: "Member", name: "State of Delaware" },
  { typeId: "Vendor", name: "Measured Progress" },
  { typeId: "Smarter Balanced", name: "Smarter Balanced" },
  { typeId: "Non-Member", name: "Northwind Learning" },
] as const;

export interface ItemBankOptions {
  /** projects seeded at start: only these can be a linked stimulus (so a link never moves) */
  seededProjects: number;
  /**
   * Whether a seeded project can hold a linked stimulus: the state says which ones it seeded in
   * the group itself, so every link resolves for a client that lists the group alone.
   */
  linkable?: (projectId: number) => boolean;
  /** share of projects whose repository never had an item.json */
  noItemFraction: number;
  /** share of projects whose item.json at head cannot be read as an item */
  invalidItemFraction: number;
  /** every item's commit count and its most workflow moves, instead of the bank's mix */
  historyShape?: { commits: number; statusMoves: number };
}

export type ItemPresence = "item" | "none" | "invalid";

export interface ItemFacts {
  projectId: number;
  /** item.json `id`: a string of digits, 100000 + project id (not the project id) */
  itemId: string;
  type: ItemType;
  family: "assessment" | "stim" | "tut";
  presence: ItemPresence;
  subject: "ELA" | "MATH";
  grade: string;
  passage: number;
  /** the linked stimulus: its project and its item id as item.json writes it (string or number) */
  stim: { projectId: number; stimulusId: string | number } | null;
  translated: boolean;
  /** written in the old "iat-5" format: `grade` and `<ordinal>AssessmentTarget` keys */
  legacy: boolean;
  creator: string;
  headStatus: WorkflowCode;
  commitCount: number;
  /** at most this many commits move the workflow status (default: as many as the path has) */
  statusMoves?: number;
  /** a `create` file stays at the root: the item is still being created in IAT */
  beingCreated: boolean;
}

const TYPE_WEIGHTS: ReadonlyArray<readonly [ItemType, number]> = [
  ["mc", 24],
  ["ms", 9],
  ["ebsr", 7],
  ["eq", 7],
  ["gi", 4],
  ["htqo", 3],
  ["htqs", 4],
  ["mi", 6],
  ["sa", 7],
  ["ti", 4],
  ["wer", 3],
  ["stim", 18],
  ["tut", 4],
];

const MATH_SHARE: Record<ItemType, number> = {
  mc: 0.5,
  ms: 0.5,
  ebsr: 0.05,
  eq: 0.97,
  gi: 0.95,
  htqo: 0.05,
  htqs: 0.05,
  mi: 0.5,
  sa: 0.4,
  ti: 0.95,
  wer: 0,
  stim: 0.15,
  tut: 0.5,
};

const STATUS_WEIGHTS: ReadonlyArray<readonly [WorkflowCode, number]> = [
  ["Draft", 8],
  ["InitialReview", 4],
  ["MultimediaUpload", 1],
  ["ContentReview", 4],
  ["EditorialReview", 3],
  ["SeniorContentReview", 2],
  ["SmarterContentAuditReview", 1],
  ["SmarterStudentSupportAuditReview", 1],
  ["EducatorCommitteeReview", 2],
  ["QualityCorrectionsContent", 1],
  ["QualityCorrectionsEditorial", 1],
  ["QualityCorrectionsSenior", 1],
  ["SmarterContentReview", 2],
  ["SmarterAccessibilityReview", 1],
  ["SmarterCopyEdit", 1],
  ["TextToSpeechUpload", 1],
  ["AccessibilityUpload", 1],
  ["AccessibilityReview", 1],
  ["FinalApproval", 2],
  ["FieldTest", 6],
  ["Calibrations", 1],
  ["DataReview", 2],
  ["PostFieldTestCorrections", 1],
  ["Operational", 30],
  ["Released", 6],
  ["Archived", 3],
  ["Rejected", 3],
  ["ParkingLot", 2],
];

const COMMIT_COUNT_WEIGHTS: ReadonlyArray<readonly [number, number]> = [
  [1, 18],
  [2, 14],
  [3, 13],
  [4, 11],
  [5, 9],
  [6, 8],
  [7, 7],
  [8, 6],
  [9, 5],
  [10, 4],
  [11, 3],
  [12, 2],
];

const GRADES = ["3", "4", "5", "6", "7", "8", "11"];

// salts of `unit` per question (gitlab-state.ts uses 1..6 for namespaces, archiving and hooks)
const S = { none: 7, invalid: 8, type: 9, subject: 10, grade: 11, passage: 12, link: 13 } as const;

const typeAt = (id: number) => {
  let r = unit(id, S.type) * TYPE_WEIGHTS.reduce((n, [, w]) => n + w, 0);
  for (const [t, w] of TYPE_WEIGHTS) {
    r -= w;
    if (r < 0) return t;
  }
  return "mc";
};
const presenceAt = (id: number, o: ItemBankOptions): ItemPresence =>
  unit(id, S.none) < o.noItemFraction
    ? "none"
    : unit(id, S.invalid) < o.invalidItemFraction
      ? "invalid"
      : "item";
const subjectAt = (id: number, t: ItemType) => (unit(id, S.subject) < MATH_SHARE[t] ? "MATH" : "ELA");

/** The decisions about project `projectId`'s item, from its id and the bank options only. */
export function itemFacts(projectId: number, o: ItemBankOptions): ItemFacts {
  const type = typeAt(projectId);
  const family = FAMILY[type];
  let subject: "ELA" | "MATH" = subjectAt(projectId, type);
  let grade = GRADES[Math.floor(unit(projectId, S.grade) * GRADES.length)] ?? "4";
  let passage = Math.floor(unit(projectId, S.passage) * PASSAGES.length);
  let stim: ItemFacts["stim"] = null;
  const rng = createRng(projectId, "facts");
  if (family === "assessment" && unit(projectId, S.link) < (subject === "ELA" ? 0.6 : 0.2)) {
    // the nearest seeded stimulus of the same subject below this project, if it holds a good item
    for (let q = Math.min(projectId - 1, o.seededProjects); q >= Math.max(1, projectId - 200); q--) {
      if (typeAt(q) !== "stim" || subjectAt(q, "stim") !== subject || presenceAt(q, o) !== "item") continue;
      if (o.linkable && !o.linkable(q)) continue;
      const s = itemFacts(q, o);
      grade = s.grade;
      passage = s.passage;
      subject = s.subject;
      stim = { projectId: q, stimulusId: rng.chance(0.9) ? s.itemId : Number(s.itemId) };
      break;
    }
  }
  const headStatus = rng.weighted(STATUS_WEIGHTS);
  const drawn = rng.weighted(COMMIT_COUNT_WEIGHTS); // drawn always: the facts after it stay the same
  const commitCount = o.historyShape?.commits ?? drawn;
  return {
    projectId,
    itemId: String(100_000 + projectId),
    type,
    family,
    presence: presenceAt(projectId, o),
    subject,
    grade,
    passage,
    stim,
    translated: family !== "tut" && rng.chance(subject === "MATH" ? 0.45 : 0.3),
    legacy: family === "assessment" && rng.chance(0.03),
    creator: rng.pick(IAT_USERS.writers),
    headStatus,
    commitCount,
    ...(o.historyShape ? { statusMoves: o.historyShape.statusMoves } : {}),
    beingCreated: headStatus === "Draft" && commitCount <= 3 && rng.chance(0.5),
  };
}

/** What one revision of the item has been through: the state its item.json is rendered from. */
export interface ItemRevision {
  status: WorkflowCode;
  /** the furthest the item got: 1 once field-tested, 2 once operational (never goes back) */
  reached: 0 | 1 | 2;
  /** English content edits so far and when the last was saved (ms) */
  en: number;
  enAt: number;
  /** Spanish translation edits (0 = not translated yet) and when the last was saved */
  esp: number;
  espAt: number;
  /** accessibility file uploads, oldest first (ms) */
  uploads: number[];
  /** content update needs raised, oldest first (ms) */
  needs: number[];
  /** assignments made, oldest first */
  assignments: Array<{ at: number; to: string; by: string }>;
  createdAt: number;
}

export function reachedBy(status: WorkflowCode, before: 0 | 1 | 2): 0 | 1 | 2 {
  const i = WORKFLOW_PATH.indexOf(status);
  const r = i >= WORKFLOW_PATH.indexOf("Operational") ? 2 : i >= WORKFLOW_PATH.indexOf("FieldTest") ? 1 : 0;
  return Math.max(before, status === "Archived" ? 2 : r) as 0 | 1 | 2;
}

/** The type of a project's item and whether it has one, without deciding the rest (cheap). */
export function itemKindOf(
  projectId: number,
  o: ItemBankOptions,
): { type: ItemType; presence: ItemPresence } {
  return { type: typeAt(projectId), presence: presenceAt(projectId, o) };
}
