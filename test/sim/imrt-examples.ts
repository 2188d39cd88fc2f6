/**
 * The three projects of IMRT-ITEMS.md §6.9 as simulator seeds (`state.seedProject`): stimulus
 * 300200 (project 501), mc item 300101 (project 502) and tutorial 300300 (project 503), with the
 * commit dates and authors the specification gives. The documents are §6.9's, key for key.
 *
 * Project 502 is seeded with c1..c3 (head status FieldTest, the state of its first sync); c4 is
 * `EXAMPLE_502_C4`, a commit that changes only the workflow code to Operational, to push for the
 * second sync. §6.9 gives only the head document; the earlier ones are it as it was: c1 created
 * the item (English content saved then, no translation, no assignment), c2 (editor1) saved the
 * English content of 2019-03-04 and the first assignment, c3 (editor2) the Spanish translation and
 * the second assignment. All three are FieldTest, so the status date is c1's under every reading.
 */
import type { CommitSpec } from "./gitlab-repository.ts";
import type { ProjectSpec } from "./gitlab-state.ts";

export const EXAMPLE_STIM_501 = {
  id: "300200",
  type: "stim",
  version: "iat-11.2",
  core: {
    metadata: {
      subject: "ELA",
      intendedGrade: "4",
      depthOfKnowledge: "",
      organizationTypeId: "Member",
      organizationName: "Acme Schools",
      itemAuthor: "jdoe",
    },
    en: {
      content: "<p>The <em>clever</em> fox ran.</p>",
      passages: [
        { title: "One", body: "..." },
        { title: "Two", body: "..." },
      ],
      isRequired: "true",
      isProvided: true,
      updatedDate: "2019-01-02T08:00:00.000Z",
    },
    attachments: [],
  },
  asl: { isAslRequired: "undetermined", isAslProvided: false, attachments: [] },
  braille: { isBrailleRequired: "undetermined", isBrailleProvided: false, attachments: [] },
  cc: { isCcRequired: "undetermined", isCcProvided: false, attachments: [] },
  textToSpeech: {
    isVisualTTSRequired: "undetermined",
    isVisualTTSProvided: false,
    isSightTTSProvided: false,
  },
  workflow: { workflowStatusCode: "Draft" },
  translations: {
    esp: {
      content: "",
      passages: [],
      isRequired: "undetermined",
      isProvided: false,
      updatedDate: "2019-01-02T08:00:00.000Z",
    },
  },
  assignments: [],
};

/** Project 502's document after c4 (§6.9 verbatim). */
export const EXAMPLE_MC_502_HEAD = {
  id: "300101",
  type: "mc",
  version: "iat-11.2",
  core: {
    stimulusId: "300200",
    metadata: {
      subject: "ELA",
      intendedGrade: "4",
      depthOfKnowledge: "2",
      primaryClaim: "1",
      primaryTarget: "3",
      primaryCommonCoreStandard: "RL-1",
      organizationTypeId: "Member",
      organizationName: "Acme Schools",
      itemAuthor: "jdoe",
      contentTaskModel: "TM1",
      testCategory: "Summative",
      scoringEngine: "AutomaticWithKey",
      performanceTask: "No",
    },
    en: {
      prompt: "<p>Which word best describes&nbsp;the <b>fox</b>?</p>",
      options: [
        { text: "<p>clever</p>", isCorrectAnswer: true },
        { text: "<p>sleepy</p>", isCorrectAnswer: false },
        { text: "<p>clever</p>", isCorrectAnswer: false },
      ],
      isRequired: "true",
      isProvided: true,
      updatedDate: "2019-03-04T10:00:00.000Z",
    },
    contentUpdateNeeds: [
      {
        createDate: "2019-02-01T00:00:00.000Z",
        notes: "typo",
        internalResolution: "NoAction",
        internalResolutionDate: "2019-02-02T00:00:00.000Z",
        resolution: "NoAction",
        resolutionDate: "2019-02-03T00:00:00.000Z",
        resolutionNotes: "done",
      },
      {
        createDate: "2019-03-01T00:00:00.000Z",
        notes: "art",
        internalResolution: "UpdateContentRedeploy",
        internalResolutionDate: "",
        resolution: "",
        resolutionDate: "",
        resolutionNotes: "",
      },
    ],
    testAdministration: {
      fieldTestAdministrationId: "FT-2018",
      administrations: [
        {
          administrationId: "FT-2018",
          fieldTestData: { itemDifficultyQuintile: "3" },
          forms: [
            { formId: "F1", formType: "FieldTest", assessmentType: "Summative", exposures: 120 },
            { formId: "F2", formType: "FieldTest", assessmentType: "Interim", exposures: null },
          ],
        },
        {
          administrationId: "OP-2019",
          fieldTestData: { itemDifficultyQuintile: "4" },
          forms: [{ formId: "F3", formType: "Operational", assessmentType: "Summative", exposures: 300 }],
        },
      ],
    },
  },
  asl: {
    isAslRequired: "Yes",
    isAslProvided: true,
    attachments: [{ fileName: "item_300101_ASL.mp4", uploadedDate: "2019-03-01T00:00:00.000Z" }],
  },
  braille: { isBrailleRequired: "No", isBrailleProvided: false, attachments: [] },
  cc: { isCcRequired: "undetermined", isCcProvided: false, attachments: [] },
  textToSpeech: { isVisualTTSRequired: "No", isVisualTTSProvided: false, isSightTTSProvided: true },
  glossary: {
    isEnglishGlossaryProvided: true,
    isIllustratedGlossaryProvided: false,
    isIllustratedGlossaryRequired: "No",
    isTranslatedGlossaryProvided: false,
    isTranslatedGlossaryRequired: "Yes",
    terms: [],
  },
  serverManaged: { primaryEnhancedId: "E.G4.C1RL.T3" },
  workflow: { workflowStatusCode: "Operational" },
  assignments: [
    { assignedTo: "Zoe@x.org", assignedBy: "lead@x.org", assignedDate: "2019-03-05T17:00:00.000Z" },
    { assignedTo: "amy@x.org", assignedBy: "lead@x.org", assignedDate: "2019-03-06T01:30:00.000Z" },
  ],
  translations: {
    esp: {
      prompt: "<p>&iquest;Qu&eacute; palabra describe al <em>zorro</em>?</p>",
      options: [{ text: "<p>astuto</p>" }],
      isRequired: "Yes",
      isProvided: true,
      updatedDate: "2019-03-05T09:00:00.000Z",
    },
  },
};

export const EXAMPLE_TUT_503 = {
  id: "300300",
  type: "tut",
  version: "iat-11.2",
  core: {
    en: {
      content: "<p>Use the <strong>arrows</strong> to move.</p>",
      isRequired: "true",
      isProvided: true,
      updatedDate: "2019-02-01T00:00:00.000Z",
    },
    attachments: [],
  },
  asl: { isAslRequired: "undetermined", isAslProvided: false, attachments: [] },
  braille: { isBrailleRequired: "undetermined", isBrailleProvided: false, attachments: [] },
  cc: { isCcRequired: "undetermined", isCcProvided: false, attachments: [] },
  textToSpeech: {
    isVisualTTSRequired: "undetermined",
    isVisualTTSProvided: false,
    isSightTTSProvided: false,
  },
  workflow: { workflowStatusCode: "SmarterContentReview" },
  translations: {
    esp: {
      content: "",
      isRequired: "undetermined",
      isProvided: false,
      updatedDate: "2019-02-01T00:00:00.000Z",
    },
  },
};

type Doc = typeof EXAMPLE_MC_502_HEAD;
const at = (doc: Doc, changes: (d: Doc) => void): Doc => {
  const copy = structuredClone(doc);
  changes(copy);
  return copy;
};
const fieldTest = at(EXAMPLE_MC_502_HEAD, (d) => {
  d.workflow.workflowStatusCode = "FieldTest";
});
const c2 = at(fieldTest, (d) => {
  d.translations.esp = {
    prompt: "",
    options: [],
    isRequired: "undetermined",
    isProvided: false,
    updatedDate: "2019-01-10T09:00:00.000Z",
  };
  d.assignments = d.assignments.slice(0, 1);
});
const c1 = at(c2, (d) => {
  d.core.en.updatedDate = "2019-01-10T08:59:00.000Z";
  d.assignments = [];
});

export const EXAMPLE_PROJECTS: ProjectSpec[] = [
  {
    id: 501,
    name: "Stimulus 300200",
    commits: [
      {
        date: "2019-01-02T08:00:00Z",
        author: "jdoe",
        title: "Create item 300200",
        files: { "item.json": EXAMPLE_STIM_501 },
      },
    ],
  },
  {
    id: 502,
    name: "Item 300101",
    commits: [
      {
        date: "2019-01-10T09:00:00Z",
        author: "jdoe",
        title: "Create item 300101",
        files: { "item.json": c1 },
      },
      {
        date: "2019-03-05T12:00:00Z",
        author: "editor1",
        title: "Update item 300101",
        files: { "item.json": c2 },
      },
      {
        date: "2019-03-06T02:00:00Z",
        author: "editor2",
        title: "Update Spanish translation of item 300101",
        files: { "item.json": fieldTest },
      },
    ],
  },
  {
    id: 503,
    name: "Tutorial 300300",
    commits: [
      {
        date: "2019-02-01T00:00:00Z",
        author: "kim",
        title: "Create item 300300",
        files: { "item.json": EXAMPLE_TUT_503, create: "" },
      },
    ],
  },
];

/** c4 of project 502: only the workflow code changes, to Operational (push it with pushCommit). */
export const EXAMPLE_502_C4: CommitSpec = {
  date: "2019-04-01T08:00:00Z",
  author: "admin",
  title: "Change workflow status of item 300101 from FieldTest to Operational",
  files: { "item.json": EXAMPLE_MC_502_HEAD },
};
