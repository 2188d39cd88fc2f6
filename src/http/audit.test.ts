import { expect, test } from "bun:test";
import { registerSecret } from "../lib/log.ts";
import { auditTarget } from "./audit.ts";

// a static token may hold - . _ ~ + / and = padding; a webhook secret anything, spaces included
const TOKEN = "audit-Tok~en.value_0123+abc/def==";
const SECRET = "a webhook secret & more";
registerSecret(TOKEN);
registerSecret(SECRET);

const every = (s: string) =>
  [...s].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`).join("");

test("a secret in the query is redacted in every encoding a query string can carry", () => {
  const spellings = [
    TOKEN,
    encodeURIComponent(TOKEN),
    TOKEN.replace("~", "%7E"),
    TOKEN.replace("~", "%7e"),
    encodeURIComponent(TOKEN)
      .replace("~", "%7E")
      .replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
    every(TOKEN),
    every(TOKEN).toLowerCase(),
    new URLSearchParams({ t: TOKEN }).toString().slice(2),
    new URLSearchParams({ t: SECRET }).toString().slice(2), // form encoding: + for a space
    encodeURIComponent(SECRET),
    every(SECRET),
  ];
  for (const spelling of spellings) {
    for (const query of [`fresh=true&t=${spelling}`, `${spelling}=1`, `x=pre${spelling}post`, spelling]) {
      const target = auditTarget(new URL(`http://localhost/sync?${query}`));
      const decoded = decodeURIComponent(target);
      expect({
        query,
        leaks: [TOKEN, SECRET].some((s) => decoded.includes(s) || target.includes(s)),
      }).toEqual({
        query,
        leaks: false,
      });
      expect(target).toContain("[redacted]");
    }
  }
});

test("a secret in the path is redacted too; ordinary targets are shown as they were", () => {
  expect(auditTarget(new URL(`http://localhost/jobs/${every(TOKEN)}/stop`))).toBe("/jobs/[redacted]/stop");
  expect(auditTarget(new URL("http://localhost/sync?fresh=true&mode=full"))).toBe(
    "/sync?fresh=true&mode=full",
  );
  expect(auditTarget(new URL("http://localhost/jobs/7/reset?force=true"))).toBe("/jobs/7/reset?force=true");
  expect(auditTarget(new URL("http://localhost/sync?access_token=anything"))).toBe(
    "/sync?access_token=[redacted]",
  );
  // a malformed escape is shown, not thrown
  expect(auditTarget(new URL("http://localhost/sync?x=%ZZ%41"))).toBe("/sync?x=%ZZA");
  expect(auditTarget(new URL("http://localhost/sync?x=a%20b%0A"))).toBe("/sync?x=a%20b%0A");
});
