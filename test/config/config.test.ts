/** loadConfig's messages for typical mistakes (pure logic: no services). */
import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config.ts";
import { ConfigError } from "../../src/lib/errors.ts";

const VALID = {
  GITLAB_URL: "https://gitlab.example.org",
  GITLAB_TOKEN: "glpat-0123456789",
  GITLAB_GROUP: "imrt/items",
  WEBHOOK_URL: "https://item-sync.example.org/webhooks/gitlab",
  API_TOKENS: "0123456789abcdef0123",
  WEBHOOK_SECRET: "0123456789abcdef01234567",
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...VALID, ...env });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe("loadConfig mistakes", () => {
  test("a GITLAB_URL ending in /api/v4 is named as the problem, with the URL to use instead", () => {
    expect(problems({ GITLAB_URL: "https://gitlab.example.org/api/v4/" })).toEqual([
      'GITLAB_URL: "https://gitlab.example.org/api/v4/" ends with /api/v4; give GitLab\'s base URL, "https://gitlab.example.org": item-sync adds /api/v4 itself',
    ]);
    // a GitLab under a relative path keeps it
    expect(problems({ GITLAB_URL: "https://example.org/gitlab/api/v4" })[0]).toContain(
      '"https://example.org/gitlab"',
    );
    expect(problems({ GITLAB_URL: "https://example.org/gitlab" })).toEqual([]);
  });
});
