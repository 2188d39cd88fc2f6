/**
 * The simulator's record types: namespaces, projects, hooks and commits, in the simulator's own
 * (camelCase) shape. gitlab-json.ts turns them into GitLab's JSON; gitlab-state.ts holds them.
 */

export interface SimNamespace {
  id: number;
  name: string;
  path: string;
  fullPath: string;
  parentId: number | null;
}

/** Hook health as GitLab keeps it (see gitlab-hooks.ts for the rules that move it). */
export interface SimHookHealth {
  /** consecutive failed deliveries since the last success */
  recentFailures: number;
  /** ms since epoch; set while (or after) the hook was temporarily disabled */
  disabledUntil: number | null;
  /** disabled until a successful test delivery re-enables it */
  permanentlyDisabled: boolean;
}

export interface SimHook extends SimHookHealth {
  id: number;
  url: string;
  projectId: number;
  pushEvents: boolean;
  enableSslVerification: boolean;
  token: string;
  createdAt: string;
}

export interface SimPerson {
  name: string;
  email: string;
}

export interface SimCommit {
  id: string;
  title: string;
  message: string;
  authorName: string;
  authorEmail: string;
  authoredDate: string;
  committerName: string;
  committerEmail: string;
  committedDate: string;
  parentIds: string[];
  /** The tree at this commit: path -> content. A generated history renders it on first access. */
  files: Map<string, string>;
  /**
   * A generated commit's cheap identity of a file's content, to compare commits without
   * rendering them: equal keys mean equal content; null: the file is absent; undefined: unknown
   * (not generated, or `files` was changed by hand), compare the content instead.
   */
  contentKey?(path: string): string | null | undefined;
}

export interface SimProject {
  id: number;
  name: string;
  path: string;
  namespaceId: number;
  sharedWith: number[]; // group ids this project is shared into
  archived: boolean;
  defaultBranch: string | null;
  createdAt: string;
  lastActivityAt: string;
  hooks?: SimHook[];
  /**
   * Every commit reachable from the default branch, newest committed first; [0] is the branch's
   * head. Absent until something changes the history (or asks for it through commitsOf): until
   * then the history is generated from the project id on each read.
   */
  commits?: SimCommit[];
}

/** What a system hook says about a project: taken when the event happens (a destroyed one is gone). */
export interface ProjectSnapshot {
  id: number;
  name: string;
  path: string;
  pathWithNamespace: string;
  namespaceId: number;
  namespaceName: string;
  createdAt: string;
}

/** Changes the state announces, for the deliveries of gitlab-hooks.ts and gitlab-system-hooks.ts. */
export type SimEvent =
  | { kind: "project_create" | "project_destroy" | "project_update"; project: ProjectSnapshot }
  | { kind: "project_rename" | "project_transfer"; project: ProjectSnapshot; oldPathWithNamespace: string }
  | { kind: "push"; projectId: number; ref: string; before: string; after: string; commits: SimCommit[] };
