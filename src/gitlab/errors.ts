/**
 * GitLab failures. `GitlabError` is one failed call (status, whether a retry may help, the
 * project it concerned); `GitlabAccessError` means the configured URL, token or group cannot
 * work at all, so a job fails at once with a message naming GITLAB_URL and the problem. No
 * message ever contains the token: it travels only in a request header.
 */
import { UpstreamError } from "../lib/errors.ts";

export class GitlabError extends UpstreamError {
  readonly projectId: number | undefined;

  constructor(
    message: string,
    opts: { retryable: boolean; upstreamStatus?: number; projectId?: number; cause?: unknown; code?: string },
  ) {
    super(opts.code ?? "GITLAB_ERROR", message, opts);
    this.projectId = opts.projectId;
  }

  /** The same failure, attributed to a project (kept as is when it already names one). */
  forProject(projectId: number): GitlabError {
    if (this.projectId !== undefined) return this;
    return new GitlabError(`project ${projectId}: ${this.message}`, {
      retryable: this.retryable,
      upstreamStatus: this.upstreamStatus,
      projectId,
      cause: this,
      code: this.code,
    });
  }
}

/** The token, URL or group is wrong (401/403 on the group, 404 group): retrying cannot help. */
export class GitlabAccessError extends GitlabError {
  constructor(message: string, opts: { upstreamStatus?: number; cause?: unknown } = {}) {
    super(message, { ...opts, retryable: false, code: "GITLAB_ACCESS" });
  }
}

/** Statuses worth another attempt; 429 is handled apart (everyone waits out Retry-After). */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([500, 502, 503, 504, 408]);

/** Turns a failed group lookup into the operator-facing access error, or null if not one. */
export function accessErrorFor(err: unknown, gitlabUrl: string, group: string): GitlabAccessError | null {
  if (!(err instanceof GitlabError) || err instanceof GitlabAccessError) {
    return err instanceof GitlabAccessError ? err : null;
  }
  const where = `GitLab at ${gitlabUrl}`;
  switch (err.upstreamStatus) {
    case 401:
      return new GitlabAccessError(
        `${where} rejected the token (401 Unauthorized): check GITLAB_TOKEN is valid and not expired`,
        { upstreamStatus: 401, cause: err },
      );
    case 403:
      return new GitlabAccessError(
        `${where} refused access to group "${group}" (403 Forbidden): the token needs the read_api/api scope and access to the group`,
        { upstreamStatus: 403, cause: err },
      );
    case 404:
      return new GitlabAccessError(
        `${where} has no group "${group}" visible to this token (404 Group Not Found): check GITLAB_GROUP`,
        { upstreamStatus: 404, cause: err },
      );
    default:
      return null;
  }
}

/** GitLab answered 404; with `what`, only when its message names it ("404 File Not Found"). */
export function isGitlabNotFound(err: unknown, what?: string): boolean {
  return (
    err instanceof GitlabError &&
    err.upstreamStatus === 404 &&
    (what === undefined || err.message.includes(what))
  );
}
