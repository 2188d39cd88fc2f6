/**
 * The `item` columns one revision assigns from item.json, as data (IMRT-ITEMS.md §3.3, §3.4): one
 * row per column — name, item.json source, transform or rule, when it is KEEP, and the entity
 * default an inserted row gets when it is KEEP — in the order of §3.3. map-item.ts reads the table
 * with one loop; the row kinds, transforms and KEEP conditions are in column-rule-kinds.ts. Search a
 * column's name to find its rule.
 *
 * Not here (types.ts, MappedItem): `key`, `id`, `classification`, the git and history columns and
 * the four validation counts. Not written at all: `commit_id`, `item_version` (TIMS) and the V47
 * columns, which the GitLab-era service never filled.
 */

import { type ColumnRule, derived, metadata, path } from "./column-rule-kinds.ts";
import { uploadedPrior } from "./derived-rules.ts";

const DFLT = 'dflt("")';
const RAW_Q14 = "raw, NULL → '' (Q14)";
const TEXT_BOOL = "text(bool), missing = 'false'";
const BOOL = "boolean, missing = false";
const INSTANT = "ISO-8601 instant, missing or unparseable = NULL (Q5)";
const NULLABLE_RAW = "raw, missing = NULL";

export const COLUMN_RULES: readonly ColumnRule[] = [
  metadata("subject", "core.metadata.subject"),
  metadata("grade", "core.metadata.intendedGrade", "core.metadata.grade"),
  // Entity default NULL would fail NOT NULL on a new row (Q14): '' instead.
  path("workflow_status", "workflow.workflowStatusCode", DFLT, "`workflow` absent", ""),
  derived("item_type", "type", "one of the 13 codes, as read", (c) => c.item.type),
  metadata("dok", "core.metadata.depthOfKnowledge"),
  derived("item_json", "whole item.json", "the document as stored in GitLab (Q3)", (c) => c.item.text),
  derived(
    "associated_stimulus_id",
    "core.stimulusId",
    "assessment family: integer, NULL when null or empty; other families NULL",
    (c) => c.family.associatedStimulusId(c.item.doc),
  ),
  metadata("organization_type_id", "core.metadata.organizationTypeId"),
  metadata("organization_name", "core.metadata.organizationName"),
  metadata("primary_claim", "core.metadata.primaryClaim"),
  metadata("primary_content_domain", "core.metadata.primaryContentDomain"),
  metadata("primary_common_core_standard", "core.metadata.primaryCommonCoreStandard"),
  metadata("primary_target", "core.metadata.primaryTarget", "core.metadata.primaryAssessmentTarget"),
  metadata("secondary_claim", "core.metadata.secondaryClaim"),
  metadata("secondary_content_domain", "core.metadata.secondaryContentDomain"),
  metadata("secondary_common_core_standard", "core.metadata.secondaryCommonCoreStandard"),
  metadata("secondary_target", "core.metadata.secondaryTarget", "core.metadata.secondaryAssessmentTarget"),
  metadata("tertiary_claim", "core.metadata.tertiaryClaim"),
  metadata("tertiary_content_domain", "core.metadata.tertiaryContentDomain"),
  metadata("tertiary_common_core_standard", "core.metadata.tertiaryCommonCoreStandard"),
  metadata("tertiary_target", "core.metadata.tertiaryTarget", "core.metadata.tertiaryAssessmentTarget"),
  metadata("quaternary_claim", "core.metadata.quaternaryClaim"),
  metadata("quaternary_content_domain", "core.metadata.quaternaryContentDomain"),
  metadata("quaternary_common_core_standard", "core.metadata.quaternaryCommonCoreStandard"),
  metadata("quaternary_target", "core.metadata.quaternaryTarget", "core.metadata.quaternaryAssessmentTarget"),
  metadata("content_task_model", "core.metadata.contentTaskModel"),
  metadata("item_author", "core.metadata.itemAuthor"),
  derived(
    "item_difficulty_quintile",
    "core.testAdministration.administrations[].fieldTestData.itemDifficultyQuintile",
    "3.4.6: the field-test administration's quintile; KEEP when none matches or it is blank",
    (c) => c.testAdministration.item_difficulty_quintile,
    "the rule says",
    null,
  ),
  derived(
    "form_count",
    "core.testAdministration.administrations[].forms[]",
    "3.4.6: number of forms; KEEP for stim and tut",
    (c) => c.testAdministration.form_count,
    "the rule says",
    null,
  ),
  derived(
    "exposures_count",
    "core.testAdministration.administrations[].forms[].exposures",
    "3.4.6: sum of exposures (null counts 0)",
    (c) => c.testAdministration.exposures_count,
  ),
  path("asl_required", "asl.isAslRequired", DFLT, "`asl` absent", ""),
  path("asl_provided", "asl.isAslProvided", TEXT_BOOL, "`asl` absent", ""),
  path("braille_required", "braille.isBrailleRequired", RAW_Q14, "`braille` absent", ""),
  path("braille_provided", "braille.isBrailleProvided", TEXT_BOOL, "`braille` absent", ""),
  path("cc_required", "cc.isCcRequired", RAW_Q14, "`cc` absent", ""),
  path("cc_provided", "cc.isCcProvided", TEXT_BOOL, "`cc` absent", ""),
  path("translation_required", "translations.esp.isRequired", RAW_Q14, "`translations.esp` absent", ""),
  path("translation_provided", "translations.esp.isProvided", TEXT_BOOL, "`translations.esp` absent", ""),
  metadata("writing_purpose", "core.metadata.writingPurpose"),
  metadata("performance_task", "core.metadata.performanceTask"),
  path("sight_tts_provided", "textToSpeech.isSightTTSProvided", BOOL, "`textToSpeech` absent", null),
  path("visual_tts_provided", "textToSpeech.isVisualTTSProvided", BOOL, "`textToSpeech` absent", null),
  path("visual_tts_required", "textToSpeech.isVisualTTSRequired", DFLT, "`textToSpeech` absent", ""),
  metadata("test_category", "core.metadata.testCategory"),
  path("english_content_last_updated_at", "core.en.updatedDate", INSTANT, "never"),
  metadata("scoring_engine", "core.metadata.scoringEngine"),
  path(
    "spanish_content_last_updated_at",
    "translations.esp.updatedDate",
    INSTANT,
    "`translations.esp` absent",
    null,
  ),
  metadata("allow_calculator", "core.metadata.allowCalculator"),
  derived(
    "asl_uploaded_prior_to_last_content_update",
    "asl.attachments[].uploadedDate, core.en.updatedDate",
    "3.4.5: newest ASL upload < English content date; KEEP without ASL attachments",
    (c) => uploadedPrior(c.item.doc, "asl", c.englishUpdatedAt, c.facts),
    "the rule says",
    false,
  ),
  derived(
    "braille_uploaded_prior_to_last_content_update",
    "braille.attachments[].uploadedDate, core.en.updatedDate",
    "3.4.5: newest braille upload < English content date; KEEP without braille attachments",
    (c) => uploadedPrior(c.item.doc, "braille", c.englishUpdatedAt, c.facts),
    "the rule says",
    false,
  ),
  derived(
    "closed_captioning_uploaded_prior_to_last_content_update",
    "cc.attachments[].uploadedDate, core.en.updatedDate",
    "3.4.5: newest cc upload < English content date; KEEP without cc attachments",
    (c) => uploadedPrior(c.item.doc, "cc", c.englishUpdatedAt, c.facts),
    "the rule says",
    false,
  ),
  derived(
    "english_passages_count",
    "core.en.passages",
    "stim: array length; others 0",
    (c) => c.family.passages(c.item.doc).english,
  ),
  derived(
    "spanish_passages_count",
    "translations.esp.passages",
    "stim: array length; others 0",
    (c) => c.family.passages(c.item.doc).spanish,
  ),
  ...(
    [
      "unresolved_update_need",
      "current_update_need_create_date",
      "current_update_need_internal_resolution_date",
      "current_update_need_internal_resolution",
      "current_update_need_resolution_date",
      "current_update_need_resolution",
    ] as const
  ).map((column) =>
    derived(
      column,
      "core.contentUpdateNeeds[]",
      "3.4.7: the latest need; unresolved if any",
      (c) => c.updateNeeds[column],
    ),
  ),
  path("english_glossary_provided", "glossary.isEnglishGlossaryProvided", BOOL, "`glossary` absent", false),
  path(
    "illustrated_glossary_provided",
    "glossary.isIllustratedGlossaryProvided",
    BOOL,
    "`glossary` absent",
    false,
  ),
  path(
    "illustrated_glossary_required",
    "glossary.isIllustratedGlossaryRequired",
    RAW_Q14,
    "`glossary` absent",
    "",
  ),
  path(
    "translated_glossary_provided",
    "glossary.isTranslatedGlossaryProvided",
    BOOL,
    "`glossary` absent",
    false,
  ),
  path(
    "translated_glossary_required",
    "glossary.isTranslatedGlossaryRequired",
    RAW_Q14,
    "`glossary` absent",
    "",
  ),
  path(
    "primary_enhanced_id",
    "serverManaged.primaryEnhancedId",
    NULLABLE_RAW,
    "`serverManaged` absent",
    null,
  ),
  path(
    "secondary_enhanced_id",
    "serverManaged.secondaryEnhancedId",
    NULLABLE_RAW,
    "`serverManaged` absent",
    null,
  ),
  path(
    "tertiary_enhanced_id",
    "serverManaged.tertiaryEnhancedId",
    NULLABLE_RAW,
    "`serverManaged` absent",
    null,
  ),
  path(
    "quaternary_enhanced_id",
    "serverManaged.quaternaryEnhancedId",
    NULLABLE_RAW,
    "`serverManaged` absent",
    null,
  ),
  ...(["assigned_to", "assigned_by", "assigned_dates", "assigned_date_sort"] as const).map((column) =>
    derived(
      column,
      "assignments[]",
      "3.4.8: sorted by assignee; '' without assignments",
      (c) => c.assignments[column],
    ),
  ),
];
