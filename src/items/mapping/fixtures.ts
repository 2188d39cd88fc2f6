/**
 * The three example items of IMRT-ITEMS.md §6.9 (projects 501, 502, 503), their item.json texts
 * exactly as printed there. Used by the mapping tests and by integration tests of the IMRT tables;
 * the expected rows are listed in §6.9 beside each document.
 */

/** Project 501: stimulus 300200, one commit s1 = 2019-01-02T08:00:00Z by `jdoe`. */
export const STIM_300200_ITEM_JSON = `{ "id": "300200", "type": "stim", "version": "iat-11.2",
  "core": {
    "metadata": { "subject": "ELA", "intendedGrade": "4", "depthOfKnowledge": "",
                  "organizationTypeId": "Member", "organizationName": "Acme Schools", "itemAuthor": "jdoe" },
    "en": { "content": "<p>The <em>clever</em> fox ran.</p>",
            "passages": [ { "title": "One", "body": "..." }, { "title": "Two", "body": "..." } ],
            "isRequired": "true", "isProvided": true, "updatedDate": "2019-01-02T08:00:00.000Z" },
    "attachments": [] },
  "asl": { "isAslRequired": "undetermined", "isAslProvided": false, "attachments": [] },
  "braille": { "isBrailleRequired": "undetermined", "isBrailleProvided": false, "attachments": [] },
  "cc": { "isCcRequired": "undetermined", "isCcProvided": false, "attachments": [] },
  "textToSpeech": { "isVisualTTSRequired": "undetermined", "isVisualTTSProvided": false, "isSightTTSProvided": false },
  "workflow": { "workflowStatusCode": "Draft" },
  "translations": { "esp": { "content": "", "passages": [], "isRequired": "undetermined",
                             "isProvided": false, "updatedDate": "2019-01-02T08:00:00.000Z" } },
  "assignments": [] }
`;

/** Project 502: mc item 300101 naming stimulus 300200; the head document after commit c4
 * (2019-04-01T08:00:00Z by `admin`), which set the status to Operational. */
export const MC_300101_ITEM_JSON = `{ "id": "300101", "type": "mc", "version": "iat-11.2",
  "core": {
    "stimulusId": "300200",
    "metadata": { "subject": "ELA", "intendedGrade": "4", "depthOfKnowledge": "2",
                  "primaryClaim": "1", "primaryTarget": "3", "primaryCommonCoreStandard": "RL-1",
                  "organizationTypeId": "Member", "organizationName": "Acme Schools", "itemAuthor": "jdoe",
                  "contentTaskModel": "TM1", "testCategory": "Summative",
                  "scoringEngine": "AutomaticWithKey", "performanceTask": "No" },
    "en": { "prompt": "<p>Which word best describes&nbsp;the <b>fox</b>?</p>",
            "options": [ { "text": "<p>clever</p>", "isCorrectAnswer": true },
                         { "text": "<p>sleepy</p>", "isCorrectAnswer": false },
                         { "text": "<p>clever</p>", "isCorrectAnswer": false } ],
            "isRequired": "true", "isProvided": true, "updatedDate": "2019-03-04T10:00:00.000Z" },
    "contentUpdateNeeds": [
      { "createDate": "2019-02-01T00:00:00.000Z", "notes": "typo", "internalResolution": "NoAction",
        "internalResolutionDate": "2019-02-02T00:00:00.000Z", "resolution": "NoAction",
        "resolutionDate": "2019-02-03T00:00:00.000Z", "resolutionNotes": "done" },
      { "createDate": "2019-03-01T00:00:00.000Z", "notes": "art", "internalResolution": "UpdateContentRedeploy",
        "internalResolutionDate": "", "resolution": "", "resolutionDate": "", "resolutionNotes": "" } ],
    "testAdministration": {
      "fieldTestAdministrationId": "FT-2018",
      "administrations": [
        { "administrationId": "FT-2018", "fieldTestData": { "itemDifficultyQuintile": "3" },
          "forms": [ { "formId": "F1", "formType": "FieldTest", "assessmentType": "Summative", "exposures": 120 },
                     { "formId": "F2", "formType": "FieldTest", "assessmentType": "Interim", "exposures": null } ] },
        { "administrationId": "OP-2019", "fieldTestData": { "itemDifficultyQuintile": "4" },
          "forms": [ { "formId": "F3", "formType": "Operational", "assessmentType": "Summative", "exposures": 300 } ] } ] } },
  "asl": { "isAslRequired": "Yes", "isAslProvided": true,
           "attachments": [ { "fileName": "item_300101_ASL.mp4", "uploadedDate": "2019-03-01T00:00:00.000Z" } ] },
  "braille": { "isBrailleRequired": "No", "isBrailleProvided": false, "attachments": [] },
  "cc": { "isCcRequired": "undetermined", "isCcProvided": false, "attachments": [] },
  "textToSpeech": { "isVisualTTSRequired": "No", "isVisualTTSProvided": false, "isSightTTSProvided": true },
  "glossary": { "isEnglishGlossaryProvided": true, "isIllustratedGlossaryProvided": false,
                "isIllustratedGlossaryRequired": "No", "isTranslatedGlossaryProvided": false,
                "isTranslatedGlossaryRequired": "Yes", "terms": [] },
  "serverManaged": { "primaryEnhancedId": "E.G4.C1RL.T3" },
  "workflow": { "workflowStatusCode": "Operational" },
  "assignments": [
    { "assignedTo": "Zoe@x.org", "assignedBy": "lead@x.org", "assignedDate": "2019-03-05T17:00:00.000Z" },
    { "assignedTo": "amy@x.org", "assignedBy": "lead@x.org", "assignedDate": "2019-03-06T01:30:00.000Z" } ],
  "translations": { "esp": { "prompt": "<p>&iquest;Qu&eacute; palabra describe al <em>zorro</em>?</p>",
                             "options": [ { "text": "<p>astuto</p>" } ], "isRequired": "Yes", "isProvided": true,
                             "updatedDate": "2019-03-05T09:00:00.000Z" } } }
`;

/** Project 503: tutorial 300300, one commit t1 = 2019-02-01T00:00:00Z by `kim`, with a `create` file. */
export const TUT_300300_ITEM_JSON = `{ "id": "300300", "type": "tut", "version": "iat-11.2",
  "core": { "en": { "content": "<p>Use the <strong>arrows</strong> to move.</p>", "isRequired": "true",
                    "isProvided": true, "updatedDate": "2019-02-01T00:00:00.000Z" },
            "attachments": [] },
  "asl": { "isAslRequired": "undetermined", "isAslProvided": false, "attachments": [] },
  "braille": { "isBrailleRequired": "undetermined", "isBrailleProvided": false, "attachments": [] },
  "cc": { "isCcRequired": "undetermined", "isCcProvided": false, "attachments": [] },
  "textToSpeech": { "isVisualTTSRequired": "undetermined", "isVisualTTSProvided": false, "isSightTTSProvided": false },
  "workflow": { "workflowStatusCode": "SmarterContentReview" },
  "translations": { "esp": { "content": "", "isRequired": "undetermined", "isProvided": false,
                             "updatedDate": "2019-02-01T00:00:00.000Z" } } }
`;

/** Project id → item.json text, in the order §6.9 ingests them. */
export const EXAMPLE_ITEM_JSON: Readonly<Record<number, string>> = {
  501: STIM_300200_ITEM_JSON,
  502: MC_300101_ITEM_JSON,
  503: TUT_300300_ITEM_JSON,
};
