import { expect, test } from "bun:test";
import { silentLogger } from "../lib/log.ts";
import { mapError } from "./errors.ts";

const withCode = (code: string) => Object.assign(new Error(`failure ${code}`), { code });

test("a database that cannot serve gives 503 with Retry-After; other unknown errors 500 without details", async () => {
  for (const code of [
    "53300",
    "57P03",
    "08006",
    "ECONNREFUSED",
    "CONNECTION_CLOSED",
    "SQLITE_FULL",
    "SQLITE_READONLY",
    "SQLITE_IOERR_WRITE",
  ]) {
    const res = mapError("UNKNOWN", withCode(code), silentLogger, "/jobs");
    expect(`${code} ${res.status}`).toBe(`${code} 503`);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("DATABASE_UNAVAILABLE");
  }
  for (const code of ["23505", "42P01", "SQLITE_CONSTRAINT"]) {
    const res = mapError("UNKNOWN", withCode(code), silentLogger, "/jobs");
    expect(res.status).toBe(500);
    expect(JSON.stringify(await res.json())).not.toContain(code);
  }
});
