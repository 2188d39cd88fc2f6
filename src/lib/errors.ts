/**
 * One error family for the whole service. Each error carries a stable `code` and the HTTP
 * status it maps to; the HTTP layer turns any of them into `{"error":{"code","message"}}`
 * in one place, and hides everything else behind a generic 500.
 */

export class AppError extends Error {
  readonly code: string;
  readonly status: number;

  constructor(code: string, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

export class NotFoundError extends AppError {
  constructor(message: string) {
    super("NOT_FOUND", 404, message);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string) {
    super(code, 409, message);
  }
}

export class ValidationError extends AppError {
  constructor(message: string) {
    super("INVALID_REQUEST", 422, message);
  }
}

export class AuthError extends AppError {
  constructor(message = "a valid bearer token is required") {
    super("UNAUTHORIZED", 401, message);
  }
}

/** Start-up configuration problems; `problems` lists every one found, never a secret value. */
export class ConfigError extends AppError {
  readonly problems: string[];

  constructor(problems: string[]) {
    super("INVALID_CONFIG", 500, `invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.problems = problems;
  }
}

/**
 * A problem the operator must fix before the process can work — a port in use, a database that
 * cannot be reached or is not migrated, a broker refusing our credentials. The CLI prints the
 * message alone (no stack, no log noise) and exits 2, like a bad configuration. The message
 * names the variable to look at and says what to do.
 */
export class StartupError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("STARTUP_FAILED", 500, message, options);
  }
}

/**
 * A failure of something we call (GitLab, the broker). `retryable` drives backoff; `status` is
 * the upstream HTTP status when there is one.
 */
export class UpstreamError extends AppError {
  readonly retryable: boolean;
  readonly upstreamStatus: number | undefined;

  constructor(
    code: string,
    message: string,
    opts: { retryable: boolean; upstreamStatus?: number; cause?: unknown },
  ) {
    super(code, 502, message, { cause: opts.cause });
    this.retryable = opts.retryable;
    this.upstreamStatus = opts.upstreamStatus;
  }
}

/** Every catch boundary goes through this: whatever was thrown becomes an Error. */
export function coerceError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === "string") return new Error(thrown);
  try {
    return new Error(JSON.stringify(thrown));
  } catch {
    return new Error(String(thrown));
  }
}
