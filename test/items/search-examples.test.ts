/**
 * The acceptance examples of IMRT-ITEMS.md, through the real ingest path — the GitLab simulator,
 * RabbitMQ, the ingest workers, Postgres: the three projects of §6.9 (stimulus 300200, mc item
 * 300101 with four commits in two syncs, tutorial 300300) end with the rows §6.9 expects, and every
 * example search of §5.8, run as the Item Search Service's predicate over our tables, returns
 * exactly its ids.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { toDate } from "../../src/db/client.ts";
import { createJobMessage } from "../../src/queue/messages.ts";
import { waitFor } from "../helpers/binary.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { type IngestFixture, startIngestFixture, WEBHOOK_URL } from "../ingest/fixture.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";
import { EXAMPLE_502_C4, EXAMPLE_PROJECTS } from "../sim/imrt-examples.ts";

const at = (iso: string) => new Date(iso);
const C1 = at("2019-01-10T09:00:00Z");
const C4 = at("2019-04-01T08:00:00Z");

describe("IMRT-ITEMS.md §6.9 and §5.8 through the real ingest path (Postgres)", () => {
  let t: TestDatabase;
  let sim: GitlabSim;
  let fixture: IngestFixture;
  let execution = 0;

  const heads = async () =>
    new Map(
      (
        await t.db.all<{ project_id: number; current_commit_hash: string }>(
          "select project_id, current_commit_hash from item_git",
        )
      ).map((r) => [Number(r.project_id), r.current_commit_hash]),
    );
  const sync = async (projectIds: number[]) => {
    execution++;
    await fixture.publisher.publishAll(
      projectIds.map((id) =>
        createJobMessage("update-item", execution, {
          projectId: id,
          projectPath: sim.state.fullPathOf(sim.state.project(id)!),
        }),
      ),
    );
    await waitFor(`items at their heads after sync ${execution}`, async () => {
      const stored = await heads();
      return projectIds.every((id) => stored.get(id) === sim.state.commitsOf(sim.state.project(id)!)[0]?.id);
    });
  };
  const ids = async (where: string, params: unknown[] = []) =>
    (await t.db.all<{ id: number }>(`select id from item where ${where} order by id`, params)).map((r) =>
      Number(r.id),
    );
  const row = async (id: number) => {
    const [r] = await t.db.all<Record<string, unknown>>("select * from item where id = $1", [id]);
    if (!r) throw new Error(`no item ${id}`);
    return r;
  };

  beforeAll(async () => {
    t = await createTestDatabase("pg");
    sim = startGitlabSim({ projects: 0, webhookUrl: WEBHOOK_URL });
    for (const spec of EXAMPLE_PROJECTS) sim.state.seedProject(spec);
    fixture = await startIngestFixture(t, sim, {
      name: "examples",
      retry: { retries: 2, baseMs: 20, maxMs: 100 },
    });
    // §6.9: ingest 501, 502, 503 — the first sync after c3
    await sync([501]);
    await sync([502, 503]);
    const afterFirst = await row(300101);
    expect(toDate(afterFirst.workflow_status_set_at)).toEqual(C1);
    // c4 changes only the workflow code to Operational; the second sync
    sim.state.pushCommit(502, EXAMPLE_502_C4);
    await sync([502]);
  });

  afterAll(async () => {
    await fixture.close();
    await sim.close();
    await t.drop();
  });

  test("stimulus 300200 (project 501): its §6.9 row, keyword and git rows", async () => {
    const s1 = at("2019-01-02T08:00:00Z");
    const r = await row(300200);
    expect(r).toMatchObject({
      classification: "stim",
      item_type: "stim",
      subject: "ELA",
      grade: "4",
      workflow_status: "Draft",
      item_created_by: "jdoe",
      updated_by: "jdoe",
      organization_type_id: "Member",
      organization_name: "Acme Schools",
      item_author: "jdoe",
      asl_required: "undetermined",
      asl_provided: "false",
      braille_provided: "false",
      cc_provided: "false",
      translation_required: "undetermined",
      translation_provided: "false",
      visual_tts_required: "undetermined",
      sight_tts_provided: false,
      visual_tts_provided: false,
      english_passages_count: 2,
      spanish_passages_count: 0,
      form_count: null,
      exposures_count: null,
      item_difficulty_quintile: null,
      associated_stimulus_id: null,
      assigned_to: "",
      assigned_by: "",
      assigned_dates: "",
      assigned_date_sort: "",
      english_glossary_provided: false,
      illustrated_glossary_required: "",
      primary_enhanced_id: null,
      is_being_created: false,
    });
    for (const c of [
      "workflow_status_set_at",
      "item_created_at",
      "english_content_last_updated_at",
      "spanish_content_last_updated_at",
    ]) {
      expect(toDate(r[c])).toEqual(s1);
    }
    const key = Number(r.key);
    expect(
      await t.db.all("select section, content from item_keyword where item_key = $1 order by key", [key]),
    ).toEqual([{ section: "Content", content: "The clever fox ran." }]);
    for (const table of ["item_form", "item_attachment", "item_content_update_need", "item_assignment"]) {
      expect(await t.db.all(`select 1 from ${table} where item_key = $1`, [key])).toEqual([]);
    }
    const [git] = await t.db.all<Record<string, unknown>>("select * from item_git where item_key = $1", [
      key,
    ]);
    expect(git).toMatchObject({
      project_id: 501,
      project_path: "imrt/items",
      updated_by: "jdoe",
      ingest_source: "main",
    });
    expect(toDate(git?.current_commit_date)).toEqual(s1);
    expect(await t.db.all("select commit_hash from item_log where item_key = $1", [key])).toHaveLength(1);
  });

  test("item 300101 (project 502) after its second sync: every value of §6.9's table", async () => {
    const r = await row(300101);
    expect(r).toMatchObject({
      classification: "item",
      item_type: "mc",
      associated_stimulus_id: 300200,
      subject: "ELA",
      grade: "4",
      dok: "2",
      primary_claim: "1",
      primary_target: "3",
      primary_common_core_standard: "RL-1",
      primary_content_domain: "",
      content_task_model: "TM1",
      test_category: "Summative",
      scoring_engine: "AutomaticWithKey",
      performance_task: "No",
      allow_calculator: "",
      workflow_status: "Operational",
      item_created_by: "jdoe",
      content_changed_after_operational: false,
      updated_by: "admin",
      form_count: 3,
      exposures_count: 420,
      item_difficulty_quintile: 3,
      asl_required: "Yes",
      asl_provided: "true",
      asl_uploaded_prior_to_last_content_update: true,
      braille_required: "No",
      braille_provided: "false",
      braille_uploaded_prior_to_last_content_update: false,
      cc_required: "undetermined",
      cc_provided: "false",
      translation_required: "Yes",
      translation_provided: "true",
      sight_tts_provided: true,
      visual_tts_provided: false,
      visual_tts_required: "No",
      english_glossary_provided: true,
      illustrated_glossary_provided: false,
      illustrated_glossary_required: "No",
      translated_glossary_provided: false,
      translated_glossary_required: "Yes",
      primary_enhanced_id: "E.G4.C1RL.T3",
      secondary_enhanced_id: null,
      unresolved_update_need: true,
      current_update_need_internal_resolution: "UpdateContentRedeploy",
      current_update_need_internal_resolution_date: null,
      current_update_need_resolution: "",
      current_update_need_resolution_date: null,
      assigned_to: "amy@x.org, Zoe@x.org",
      assigned_by: "lead@x.org, lead@x.org",
      assigned_dates: "03/06/19, 03/05/19",
      assigned_date_sort: "1551835800000,1551805200000",
      english_passages_count: 0,
      spanish_passages_count: 0,
      is_being_created: false,
    });
    expect(toDate(r.item_created_at)).toEqual(C1);
    expect(toDate(r.workflow_status_set_at)).toEqual(C4); // it was c1 after the first sync
    expect(toDate(r.status_set_operational_at)).toEqual(C4);
    expect(toDate(r.english_content_last_updated_at)).toEqual(at("2019-03-04T10:00:00Z"));
    expect(toDate(r.spanish_content_last_updated_at)).toEqual(at("2019-03-05T09:00:00Z"));
    expect(toDate(r.current_update_need_create_date)).toEqual(at("2019-03-01T00:00:00Z"));

    const key = Number(r.key);
    const [stim] = await t.db.all<{ key: number }>("select key from item where id = 300200");
    expect(
      await t.db.all("select item_key, item_key_stim from stim_link where item_key = $1", [key]),
    ).toEqual([{ item_key: key, item_key_stim: Number(stim?.key) }]);
    expect(
      await t.db.all("select section, content from item_keyword where item_key = $1 order by key", [key]),
    ).toEqual([
      { section: "Prompt / Stem", content: "Which word best describes the fox?" },
      { section: "Options", content: "clever" },
      { section: "Options", content: "sleepy" },
      { section: "Spanish Prompt / Stem", content: "¿Qué palabra describe al zorro?" },
      { section: "Spanish Options", content: "astuto" },
    ]);
    expect(
      await t.db.all(
        "select form_id, form_type, assessment_type, exposures from item_form where item_key = $1 order by key",
        [key],
      ),
    ).toEqual([
      { form_id: "F1", form_type: "FieldTest", assessment_type: "Summative", exposures: 120 },
      { form_id: "F2", form_type: "FieldTest", assessment_type: "Interim", exposures: null },
      { form_id: "F3", form_type: "Operational", assessment_type: "Summative", exposures: 300 },
    ]);
    const attachments = await t.db.all<Record<string, unknown>>(
      "select file_name, file_type, uploaded_at from item_attachment where item_key = $1",
      [key],
    );
    expect(attachments.map((a) => [a.file_name, a.file_type, toDate(a.uploaded_at)])).toEqual([
      ["item_300101_ASL.mp4", "asl", at("2019-03-01T00:00:00Z")],
    ]);
    const needs = await t.db.all<Record<string, unknown>>(
      `select internal_resolution, resolution, resolution_notes, internal_resolution_date, resolution_date
       from item_content_update_need where item_key = $1 order by key`,
      [key],
    );
    expect(needs).toHaveLength(2);
    expect(needs[1]).toMatchObject({
      internal_resolution: "UpdateContentRedeploy",
      resolution: "",
      resolution_notes: "",
      internal_resolution_date: null,
      resolution_date: null,
    });
    expect(needs[0]?.resolution_notes).toBe("");
    expect(await t.db.all("select 1 from item_assignment where item_key = $1", [key])).toHaveLength(2);
    const log = await t.db.all<Record<string, unknown>>(
      "select commit_hash, updated_by from item_log where item_key = $1 order by commit_date",
      [key],
    );
    expect(log.map((l) => l.updated_by)).toEqual(["jdoe", "editor1", "editor2", "admin"]);
    const [git] = await t.db.all<Record<string, unknown>>("select * from item_git where item_key = $1", [
      key,
    ]);
    expect(git?.current_commit_hash).toBe(log.at(-1)?.commit_hash);
    expect(toDate(git?.current_commit_date)).toEqual(C4);
    expect(git?.updated_by).toBe("admin");
  });

  test("tutorial 300300 (project 503): being created, no metadata, its keyword", async () => {
    const r = await row(300300);
    const t1 = at("2019-02-01T00:00:00Z");
    expect(r).toMatchObject({
      classification: "item",
      item_type: "tut",
      is_being_created: true,
      workflow_status: "SmarterContentReview",
      item_created_by: "kim",
      subject: "",
      grade: "",
      dok: "",
      organization_name: "",
      form_count: null,
      exposures_count: null,
      item_difficulty_quintile: null,
      assigned_to: "",
      assigned_by: "",
      assigned_dates: "",
      assigned_date_sort: "",
    });
    expect(toDate(r.workflow_status_set_at)).toEqual(t1);
    expect(toDate(r.item_created_at)).toEqual(t1);
    const key = Number(r.key);
    expect(await t.db.all("select section, content from item_keyword where item_key = $1", [key])).toEqual([
      { section: "Content", content: "Use the arrows to move." },
    ]);
    expect(await t.db.all("select 1 from item_form where item_key = $1", [key])).toEqual([]);
  });

  describe("§5.8: every example search returns exactly its ids", () => {
    test("1. match intendedGrade [4]", async () => {
      expect(await ids("grade IN ('4')")).toEqual([300101, 300200]);
    });
    test('2. id-match id ["300101","abc"]', async () => {
      expect(await ids("id IN (300101)")).toEqual([300101]);
    });
    test('3. id-match stimulusId [""]', async () => {
      expect(await ids("associated_stimulus_id IS NULL")).toEqual([300200, 300300]);
    });
    test("4. contains organizationName [ACME], includeBlanks", async () => {
      expect(await ids("LOWER(organization_name) LIKE '%acme%' OR organization_name = ''")).toEqual([
        300101, 300200, 300300,
      ]);
    });
    test("5. days in status 5..10 (now 2019-04-10T15:00Z)", async () => {
      expect(
        await ids(
          "workflow_status_set_at >= '2019-03-31T00:00Z' AND workflow_status_set_at < '2019-04-06T00:00Z'",
        ),
      ).toEqual([300101]);
    });
    test("6. integer range calculatedFormCount min 2", async () => {
      expect(await ids("form_count >= 2")).toEqual([300101]);
    });
    test("7. form-match formType [Operational]", async () => {
      expect(
        await ids(
          "EXISTS (SELECT 1 FROM item_form f WHERE f.item_key = item.key AND f.form_type IN ('Operational'))",
        ),
      ).toEqual([300101]);
    });
    test("8. associatedItemCount min 1", async () => {
      expect(await ids("(SELECT count(*) FROM stim_link l WHERE l.item_key_stim = item.key) >= 1")).toEqual([
        300200,
      ]);
    });
    test("9. englishContentLastUpdatedDate in March 2019", async () => {
      expect(
        await ids(
          "english_content_last_updated_at <= '2019-03-31T23:59:59Z' AND english_content_last_updated_at >= '2019-03-01T00:00Z'",
        ),
      ).toEqual([300101]);
    });
    const keyword = (predicate: string) =>
      t.db.all<{ id: number; section: string; content: string }>(
        `select i.id, k.section, k.content from item i
         join lateral (select section, content from item_keyword k where k.item_key = i.key and ${predicate}
                       order by k.key limit 1) k on true order by i.id`,
      );
    test("10. keyword des*s: 300101, its Prompt / Stem row", async () => {
      expect(await keyword("k.content ~* 'des\\S*s'")).toEqual([
        { id: 300101, section: "Prompt / Stem", content: "Which word best describes the fox?" },
      ]);
    });
    test("11. keyword clever && fox: both words in one row, 300200 only", async () => {
      expect((await keyword("k.content ~* 'clever' AND k.content ~* 'fox'")).map((r) => r.id)).toEqual([
        300200,
      ]);
    });
    test("12. permissions: mc Operational, stim Draft, tut assigned to kim in SmarterContentReview", async () => {
      expect(
        await ids(
          `(item_type='mc' AND workflow_status IN ('Operational')) OR (item_type='stim' AND workflow_status IN ('Draft'))
           OR (item_type='tut' AND LOWER(assigned_to) LIKE '%kim%' AND workflow_status IN ('SmarterContentReview'))`,
        ),
      ).toEqual([300101, 300200]);
    });
    test("further checks: counts by status, a case-sensitive keyword, unresolved update needs", async () => {
      expect(
        await t.db.all(
          "select workflow_status, count(*)::int as n from item group by workflow_status order by 1",
        ),
      ).toEqual([
        { workflow_status: "Draft", n: 1 },
        { workflow_status: "Operational", n: 1 },
        { workflow_status: "SmarterContentReview", n: 1 },
      ]);
      expect(await keyword("k.content ~ 'Clever'")).toEqual([]);
      expect(await ids("unresolved_update_need = true")).toEqual([300101]);
    });
  });
});
