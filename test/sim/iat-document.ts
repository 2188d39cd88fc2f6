/**
 * The item.json document of IMRT-ITEMS.md §6 for one revision of a simulated item: top level,
 * `core` (metadata, content, stimulus link, test administrations, content update needs),
 * accessibility sections, glossary, server-managed enhanced ids, workflow, translations and
 * assignments, laid out as the authoring tool writes them. Rendered from the item's facts and
 * the revision's state (iat-items.ts); the per-type content objects come from iat-content.ts.
 */
import { CONTENT_BUILDERS } from "./iat-content.ts";
import { type ItemFacts, type ItemRevision, iatUser, ORGANIZATIONS } from "./iat-items.ts";
import { GLOSSARY_TERMS, PASSAGES, REVISION_NOTES } from "./iat-text.ts";
import { createRng, type Rng, unit } from "./sim-random.ts";

const iso = (ms: number) => new Date(ms).toISOString();
/** IAT saves content a few seconds before the commit that carries it, with milliseconds. */
const savedAt = (ms: number, salt: number) => iso(ms - 1000 - Math.floor(unit(ms / 1000, salt) * 59_000));

function metadata(f: ItemFacts, rng: Rng, org: (typeof ORGANIZATIONS)[number]) {
  const ela = f.subject === "ELA";
  const base = { subject: f.subject, intendedGrade: f.grade, organizationTypeId: org.typeId };
  if (f.family === "stim") {
    const p = PASSAGES[f.passage];
    return {
      ...base,
      depthOfKnowledge: "",
      organizationName: org.name,
      itemAuthor: f.creator,
      stimulusName: p?.title ?? "",
      stimulusFormat: "Text",
      stimulusGenre: rng.pick(["Literary", "Informational"]),
      stimulusLength: rng.pick(["Short", "Long"]),
      wordCount: String(rng.int(180, 900)),
      readabilityLexile: `${rng.int(5, 12) * 100 - 80}L`,
      copyrightHolder: "",
      testCategory: rng.pick(["Summative", "Interim"]),
    };
  }
  const domains = ela
    ? ["RL", "RI", "W", "SL", "L"]
    : ["OA", "NBT", "NF", "MD", "G", "EE", "RP", "NS", "SP", "F"];
  const claim = () => String(rng.int(1, 4));
  const target = () => (ela ? String(rng.int(1, 14)) : rng.pick("ABCDEFGHIJKLMNOP".split("")));
  const ordinals = ["primary", "secondary", "tertiary", "quaternary"].slice(
    0,
    rng.weighted([
      [1, 6],
      [2, 3],
      [3, 1],
      [4, 1],
    ]),
  );
  const standards: Record<string, string> = {};
  for (const ord of ordinals) {
    const c = claim();
    const d = rng.pick(domains);
    const t = target();
    standards[`${ord}Claim`] = c;
    standards[f.legacy ? `${ord}AssessmentTarget` : `${ord}Target`] = t;
    standards[`${ord}ContentDomain`] = ord === "primary" && rng.chance(0.3) ? "" : d;
    standards[`${ord}CommonCoreStandard`] = ela
      ? `${d}-${rng.int(1, 9)}`
      : `${f.grade}.${d}.${t}.${rng.int(1, 4)}`;
  }
  const writing = f.type === "wer" || (ela && standards.primaryClaim === "2");
  const md: Record<string, unknown> = {
    subject: f.subject,
    [f.legacy ? "grade" : "intendedGrade"]: f.grade,
    depthOfKnowledge: String(rng.int(1, 4)),
    ...standards,
    organizationTypeId: org.typeId,
    organizationName: org.name,
    itemAuthor: f.creator,
    contentTaskModel: `TM${rng.int(1, 12)}`,
    performanceTask: rng.chance(0.1) ? "Yes" : "No",
    writingPurpose: writing
      ? rng.pick(["Narrative", "InformationalExplanatory", "OpinionArgumentative"])
      : "",
    testCategory: rng.pick(["Summative", "Summative", "Interim", "Practice"]),
    scoringEngine: ["sa", "wer"].includes(f.type)
      ? "HandScored"
      : rng.pick(["AutomaticWithKey", "AutomaticWithKeys", "AutomaticWithRubric", "Automatic with Key(s)"]),
    allowCalculator: ela ? "" : rng.pick(["Yes", "No", "Neutral"]),
    maximumPoints: String(["sa", "wer"].includes(f.type) ? rng.int(2, 4) : rng.int(1, 2)),
    minGrade: f.grade,
    maxGrade: f.grade,
    presentationFormat: rng.chance(0.3) ? ["Text", "Graphic"] : ["Text"],
    copyrightHolder: "",
    specificationVersion: "2.0",
  };
  if (f.legacy) md.calculator = md.allowCalculator;
  return md;
}

function enhancedId(f: ItemFacts, md: Record<string, unknown>, ord: string): string | undefined {
  const claim = md[`${ord}Claim`];
  if (typeof claim !== "string") return undefined;
  const target = md[`${ord}Target`] ?? md[`${ord}AssessmentTarget`];
  const domain = (md[`${ord}ContentDomain`] as string) || "X";
  return `${f.subject === "ELA" ? "E" : "M"}.G${f.grade}.C${claim}${domain}.T${String(target)}`;
}

function testAdministration(f: ItemFacts, r: ItemRevision, rng: Rng) {
  if (r.reached === 0) {
    return rng.chance(0.4) ? { fieldTestAdministrationId: "", administrations: [] } : undefined;
  }
  const year = new Date(r.createdAt).getUTCFullYear() + 1;
  const ft = `FT-${year}-${String(year + 1).slice(2)}`;
  const form = (admin: string, k: number, formType: string) => ({
    formId: `${admin}-${f.subject}-G${f.grade}-F${k}`,
    formType,
    assessmentType: rng.pick(["Summative", "Summative", "Interim"]),
    exposures: rng.chance(0.15) ? null : rng.int(40, 2500),
    sequence: String(rng.int(1, 40)),
    status: "Active",
  });
  const quintile = rng.chance(0.1) ? "" : String(rng.int(1, 5));
  const administrations: Array<Record<string, unknown>> = [
    {
      administrationId: ft,
      itemVersion: String(rng.int(1, 6)),
      timeframe: "Annual",
      fieldTestData: { itemDifficultyQuintile: quintile },
      forms: Array.from({ length: rng.int(1, 3) }, (_, k) =>
        form(ft, k + 1, rng.pick(["Field Test", "FieldTest"])),
      ),
    },
  ];
  if (r.reached === 2) {
    const op = `OP-${year + 1}-${String(year + 2).slice(2)}`;
    administrations.push({
      administrationId: op,
      itemVersion: String(rng.int(1, 6)),
      timeframe: "Annual",
      ...(rng.chance(0.7) ? { fieldTestData: { itemDifficultyQuintile: "" } } : {}),
      forms: Array.from({ length: rng.int(1, 2) }, (_, k) => form(op, k + 1, "Operational")),
    });
  }
  return { fieldTestAdministrationId: ft, administrations };
}

const RESOLUTIONS = [
  "NoAction",
  "DoNotScore",
  "DeactivateReject",
  "DeactivateFieldTest",
  "UpdateContentRedeploy",
];

function contentUpdateNeeds(f: ItemFacts, r: ItemRevision, openLast: boolean) {
  return r.needs.map((at, i) => {
    const rng = createRng(f.projectId, "need", i);
    const open = openLast && i === r.needs.length - 1;
    const resolution = rng.pick(RESOLUTIONS);
    return {
      createDate: iso(at),
      notes: rng.pick(["typo in option B", "art is unclear", "key is disputed", "outdated reference"]),
      internalResolution: open && rng.chance(0.5) ? "" : resolution,
      internalResolutionDate: open ? "" : iso(at + 86_400_000),
      resolution: open ? "" : resolution,
      resolutionDate: open ? "" : iso(at + 3 * 86_400_000),
      resolutionNotes: open ? "" : "done",
    };
  });
}

function attachments(f: ItemFacts, uploads: number[]) {
  const out = { asl: [] as unknown[], braille: [] as unknown[], cc: [] as unknown[] };
  uploads.forEach((at, i) => {
    // the fourth upload re-sends the ASL video under the same name (a duplicate the ingest drops)
    const kind = (["asl", "braille", "cc", "asl"] as const)[i % 4] ?? "asl";
    const ext = { asl: "mp4", braille: "brf", cc: "vtt" }[kind];
    out[kind].push({ fileName: `item_${f.itemId}_${kind.toUpperCase()}.${ext}`, uploadedDate: iso(at) });
  });
  return out;
}

/**
 * Decisions about a document that no revision changes, drawn in one fixed order: a revision's
 * state must never shift a draw, or unrelated fields would change between commits.
 */
function staticChoices(f: ItemFacts) {
  const rng = createRng(f.projectId, "document");
  const required = () => rng.pick(["true", "undetermined", "Yes", "No"]);
  return {
    org: rng.pick(ORGANIZATIONS),
    version: f.legacy ? "iat-5" : rng.pick(["iat-11.2", "iat-11.2", "iat-10"]),
    unlinkedStimulus: rng.pick([null, ""] as const),
    aslRequired: required(),
    brailleRequired: required(),
    ccRequired: required(),
    visualTtsRequired: required(),
    visualTtsProvided: rng.chance(0.3),
    sightTtsProvided: rng.chance(0.4),
    espRequired: rng.pick(["Yes", "true"]),
    espNotRequired: rng.pick(["undetermined", "No"]),
    emptyNeedsKey: rng.chance(0.3),
    openNeed: rng.chance(0.5),
    glossary:
      f.family !== "tut" && rng.chance(0.6)
        ? {
            isEnglishGlossaryProvided: rng.chance(0.6),
            isIllustratedGlossaryProvided: rng.chance(0.2),
            isIllustratedGlossaryRequired: rng.pick(["Yes", "No", "undetermined"]),
            isTranslatedGlossaryProvided: rng.chance(0.3),
            isTranslatedGlossaryRequired: rng.pick(["Yes", "No", "undetermined"]),
            terms: rng.sample(GLOSSARY_TERMS, rng.int(0, 3)),
          }
        : undefined,
    serverManaged: f.family === "assessment" && rng.chance(0.8),
    assignmentsKey: rng.chance(0.7),
    images: rng.chance(0.2),
    audio: rng.chance(0.1),
  };
}

/** The item.json document of one revision (IMRT-ITEMS.md §6), as IAT lays it out. */
export function renderItem(f: ItemFacts, r: ItemRevision): Record<string, unknown> {
  const c = staticChoices(f);
  const md = f.family === "tut" ? undefined : metadata(f, createRng(f.projectId, "metadata"), c.org);
  const passage = PASSAGES[f.passage] ?? PASSAGES[0];
  if (!passage) throw new Error("no passages");
  // English and Spanish are edited apart: each language carries its own latest edit
  const build = (note: { en: string; es: string }) =>
    CONTENT_BUILDERS[f.type]({
      rng: createRng(f.projectId, "content"),
      subject: f.subject,
      passage,
      writingPurpose:
        typeof md?.writingPurpose === "string" && md.writingPurpose !== "" ? md.writingPurpose : "Narrative",
      note,
    });
  // every revision reads differently, however many there were
  const note = (k: number) => {
    const n = REVISION_NOTES[k % REVISION_NOTES.length] ?? { en: "", es: "" };
    return k < REVISION_NOTES.length ? n : { en: `${n.en}<!-- rev ${k} -->`, es: `${n.es}<!-- rev ${k} -->` };
  };
  const built = build(note(r.en));
  const files = attachments(f, r.uploads);
  const en = {
    ...built.en,
    isRequired: "true",
    isProvided: true,
    isManagedByIat: true,
    updatedDate: savedAt(r.enAt, 21),
  };
  const esp =
    f.translated && r.esp > 0
      ? {
          ...build(note(r.esp)).es,
          isRequired: c.espRequired,
          isProvided: true,
          updatedDate: savedAt(r.espAt, 22),
        }
      : { ...built.esEmpty, isRequired: c.espNotRequired, isProvided: false, updatedDate: iso(r.createdAt) };

  const core: Record<string, unknown> = {};
  if (f.family === "assessment") {
    core.stimulusId = f.stim ? f.stim.stimulusId : c.unlinkedStimulus;
    core.tutorialId = "";
    core.enemyItems = [];
  }
  if (md) core.metadata = md;
  core.en = en;
  core.attachments = [];
  if (r.needs.length > 0) core.contentUpdateNeeds = contentUpdateNeeds(f, r, c.openNeed);
  else if (c.emptyNeedsKey) core.contentUpdateNeeds = [];
  if (f.family === "assessment") {
    const ta = testAdministration(f, r, createRng(f.projectId, "administrations"));
    if (ta) core.testAdministration = ta;
    if (["sa", "wer", "eq"].includes(f.type)) {
      core.scoring = {
        rubric: "<p>2 points: complete and correct.</p>",
        defaultScore: 0,
        variables: [],
        rules: [],
      };
    }
  }

  const doc: Record<string, unknown> = {
    id: f.itemId,
    type: f.type,
    version: c.version,
    core,
    asl: { isAslRequired: c.aslRequired, isAslProvided: files.asl.length > 0, attachments: files.asl },
    braille: {
      isBrailleRequired: c.brailleRequired,
      isBrailleProvided: files.braille.length > 0,
      attachments: files.braille,
    },
    cc: {
      isCcRequired: c.ccRequired,
      isCcProvided: files.cc.length > 0,
      attachments: files.cc,
      itemCcAudioAssociations: [],
    },
    textToSpeech: {
      isVisualTTSRequired: c.visualTtsRequired,
      isVisualTTSProvided: c.visualTtsProvided,
      isSightTTSProvided: c.sightTtsProvided,
    },
  };
  if (c.glossary) doc.glossary = c.glossary;
  if (c.serverManaged && md) {
    const sm: Record<string, unknown> = { id: f.itemId, itsId: "", type: f.type, version: "1" };
    for (const ord of ["primary", "secondary", "tertiary", "quaternary"]) {
      const e = enhancedId(f, md, ord);
      if (e) sm[`${ord}EnhancedId`] = e;
    }
    doc.serverManaged = sm;
  }
  doc.workflow = { workflowStatusCode: r.status };
  doc.translations = { esp };
  if (r.assignments.length > 0 || c.assignmentsKey) {
    doc.assignments = r.assignments.map((a) => ({
      assignedTo: iatUser(a.to).email.replace(/^zoe/, "Zoe"),
      assignedBy: iatUser(a.by).email,
      assignedDate: iso(a.at),
    }));
  }
  if (c.images) {
    doc.images = {
      imageResources: [
        {
          id: "img1",
          concept: "a diagram for the item",
          conceptFile: { fileName: `item_${f.itemId}_concept.png`, uploadedDate: iso(r.createdAt) },
          isProductionFileProvided: r.reached > 0,
          productionFile:
            r.reached > 0 ? { fileName: `item_${f.itemId}_v1.svg`, uploadedDate: iso(r.createdAt) } : {},
        },
      ],
    };
  }
  if (c.audio) doc.audio = { audioResources: [] };
  return doc;
}

/** The file as IAT writes it: two-space JSON with a final newline. */
export const itemJsonText = (doc: unknown) => `${JSON.stringify(doc, null, 2)}\n`;

/** Kinds of unreadable item.json a bank holds (§4.6): not JSON, an unknown type, a non-integer id. */
export function brokenItemJson(f: ItemFacts, good: Record<string, unknown>): string {
  switch (Math.floor(unit(f.projectId, 14) * 3)) {
    case 0:
      return itemJsonText(good).slice(0, 120); // a truncated write
    case 1:
      return itemJsonText({ ...good, type: "xyz" });
    default:
      return itemJsonText({ ...good, id: `ITEM-${f.itemId}` });
  }
}
