/**
 * The content objects of an IAT item (`core.en` and `translations.esp`, IMRT-ITEMS.md §6.4):
 * one small builder per item type, chosen by a lookup. Each builder gives the English object, its
 * Spanish translation and the empty Spanish object an untranslated item carries, so the two
 * languages stay parallel (same options, same table) as in the authoring tool.
 *
 * Choices come from `ctx.rng`, seeded by project only: every revision of an item draws the same
 * stems and numbers, and a revision differs from the last by `ctx.note` (an author's edit).
 */
import {
  EBSR_INTRO,
  EBSR_PART_B,
  ELA_ORGANIZATION,
  ELA_STEMS,
  EQUATION_STEM,
  frac,
  GRID_STEMS,
  MATCH_STEM_ELA,
  MATCH_STEM_MATH,
  MATH_STEMS,
  math,
  mn,
  mo,
  ORDER_STEM,
  PASSAGES,
  type Passage,
  RATIONALES,
  SELECT_STEM,
  SHORT_ANSWER_STEMS,
  STIM_INTRO,
  TABLE_STEM,
  TUTORIALS,
  WRITING_STEMS,
} from "./iat-text.ts";
import type { Rng } from "./sim-random.ts";

export const ITEM_TYPES = [
  "mc",
  "ms",
  "ebsr",
  "eq",
  "gi",
  "htqo",
  "htqs",
  "mi",
  "sa",
  "ti",
  "wer",
  "stim",
  "tut",
] as const;
export type ItemType = (typeof ITEM_TYPES)[number];

export interface ContentContext {
  rng: Rng;
  subject: "ELA" | "MATH";
  passage: Passage;
  writingPurpose: string;
  /** the author's latest edit, appended to the prompt (or content) of this revision */
  note: { en: string; es: string };
}

type Obj = Record<string, unknown>;
export interface BuiltContent {
  en: Obj;
  es: Obj;
  /** what `translations.esp` holds before anyone translated the item */
  esEmpty: Obj;
}
type Builder = (ctx: ContentContext) => BuiltContent;

const fill = (s: string, vars: Record<string, string | number>) =>
  s.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));

const both = (pair: { en: string; es: string }, vars: Record<string, string | number>) => ({
  en: fill(pair.en, vars),
  es: fill(pair.es, vars),
});

const withNote = (text: { en: string; es: string }, note: { en: string; es: string }) => ({
  en: text.en + note.en,
  es: text.es + note.es,
});

const option = (text: string, correct: boolean, rationale: string) => ({
  text,
  rationale,
  isCorrectAnswer: correct,
});

/** The passage's sentences as plain HTML paragraphs, for options and orderable strings. */
const sentences = (p: Passage) => ({ en: p.paragraphs, es: p.esParagraphs });

/**
 * English and Spanish option lists for a question on the passage or, in mathematics, on the
 * stem's numbers (`math.key` is the answer, the distractors are the usual slips).
 */
function choiceOptions(
  ctx: ContentContext,
  count: number,
  correctCount: number,
  m: { a: number; b: number; key: number } | null,
) {
  const { rng } = ctx;
  let texts: Array<{ en: string; es: string }>;
  if (m) {
    const { a, b, key } = m;
    const wrong = [...new Set([a + b, key + b, key - a, key + 10, a * (b + 1), key * 2])].filter(
      (n) => n !== key,
    );
    texts = [key, ...rng.sample(wrong, count - 1)].map((n) => ({ en: `<p>${n}</p>`, es: `<p>${n}</p>` }));
  } else {
    const w = ctx.passage.word;
    const pool = [
      { en: `<p>${w.right}</p>`, es: `<p>${w.esRight}</p>` },
      ...w.wrong.map((x, i) => ({ en: `<p>${x}</p>`, es: `<p>${w.esWrong[i] ?? x}</p>` })),
      ...ELA_ORGANIZATION,
    ];
    texts = pool.slice(0, Math.max(count, 1));
    while (texts.length < count) texts.push(rng.pick(ELA_ORGANIZATION));
  }
  const correct = new Set(rng.sample([...texts.keys()].slice(1), correctCount - 1));
  correct.add(0);
  const order = rng.sample([...texts.keys()], texts.length);
  const shuffled = rng.chance(0.5) ? order : [...order].reverse();
  const en = shuffled.map((i) => option(texts[i]?.en ?? "", correct.has(i), rng.pick(RATIONALES)));
  const es = shuffled.map((i) => ({ text: texts[i]?.es ?? "", isCorrectAnswer: correct.has(i) }));
  return { en, es };
}

function mathExpression(rng: Rng) {
  const a = rng.int(2, 12);
  const b = rng.int(2, 12);
  return {
    a,
    b,
    expr: math(`${mn(a)}${mo("&#215;")}${mn(b)}`),
    fraction: math(frac(a, a + b)),
    equation: math(`${mn(a)}<mi>x</mi>${mo("+")}${mn(b)}${mo("=")}${mn(a * 3 + b)}`),
  };
}

/** A question stem; in mathematics also its numbers and answer (the equation's x is 3). */
function stem(ctx: ContentContext): {
  en: string;
  es: string;
  math: { a: number; b: number; key: number } | null;
} {
  const { rng, passage } = ctx;
  if (ctx.subject === "MATH") {
    const m = mathExpression(rng);
    const i = rng.int(0, MATH_STEMS.length - 1);
    const text = both(MATH_STEMS[i] ?? { en: "", es: "" }, m);
    return { ...text, math: { a: m.a, b: m.b, key: i === 3 ? 3 : m.a * m.b } };
  }
  return { ...both(rng.pick(ELA_STEMS), { title: passage.title, word: passage.word.en }), math: null };
}

const singleChoice =
  (count: number, correctCount: (rng: Rng) => number): Builder =>
  (ctx) => {
    const s = stem(ctx);
    const prompt = withNote(s, ctx.note);
    const options = choiceOptions(ctx, count, correctCount(ctx.rng), s.math);
    return {
      en: { prompt: prompt.en, options: options.en },
      es: { prompt: prompt.es, options: options.es },
      esEmpty: { prompt: "", options: [] },
    };
  };

const promptOnly =
  (pick: (ctx: ContentContext) => { en: string; es: string }): Builder =>
  (ctx) => {
    const prompt = withNote(pick(ctx), ctx.note);
    return { en: { prompt: prompt.en }, es: { prompt: prompt.es }, esEmpty: { prompt: "" } };
  };

const ebsr: Builder = (ctx) => {
  const partA = stem(ctx);
  const a = choiceOptions(ctx, 4, 1, partA.math);
  const said = sentences(ctx.passage);
  const b = said.en.map((text, i) => option(text, i === 0, ctx.rng.pick(RATIONALES)));
  const bEs = said.es.map((text, i) => ({ text, isCorrectAnswer: i === 0 }));
  // The shared prompt is often left empty in IAT: the parts carry the question.
  const intro = ctx.rng.chance(0.5) ? EBSR_INTRO : { en: "", es: "" };
  const prompt = withNote(intro, ctx.note);
  return {
    en: {
      prompt: prompt.en,
      partAPrompt: partA.en,
      partBPrompt: EBSR_PART_B.en,
      partAOptions: a.en,
      partBOptions: b,
    },
    es: {
      prompt: prompt.es,
      partAPrompt: partA.es,
      partBPrompt: EBSR_PART_B.es,
      partAOptions: a.es,
      partBOptions: bEs,
    },
    esEmpty: { prompt: "", partAPrompt: "", partBPrompt: "", partAOptions: [], partBOptions: [] },
  };
};

const eq: Builder = (ctx) => {
  const { rng } = ctx;
  const a = rng.int(3, 9);
  const b = rng.int(2, 8);
  const prompt = withNote(both(EQUATION_STEM, { a, b }), ctx.note);
  const parts = Array.from({ length: rng.int(1, 3) }, (_, i) => ({
    leftLabel: i === 0 ? "<p>Total =</p>" : rng.pick(["<p>x =</p>", "", "<p>Boxes:</p>"]),
    rightLabel: rng.pick(["<p>muffins</p>", "", "<p>units</p>"]),
    responseType: "equation",
    correctResponse: `${a}*${b}`,
  }));
  const esParts = parts.map((p) => ({
    ...p,
    leftLabel: p.leftLabel.replace("Total", "Total").replace("Boxes", "Cajas"),
    rightLabel: p.rightLabel.replace("muffins", "panecillos").replace("units", "unidades"),
  }));
  return {
    en: { prompt: prompt.en, parts },
    es: { prompt: prompt.es, parts: esParts },
    esEmpty: { prompt: "", parts: [] },
  };
};

const gi = promptOnly((ctx) => {
  const m = mathExpression(ctx.rng);
  const text = fill(ctx.rng.pick(GRID_STEMS), {
    point: math(`${mo("(")}${mn(m.a)}${mo(",")}${mn(m.b)}${mo(")")}`),
    c: m.a * m.b,
  });
  return { en: text, es: text.replace("Use the coordinate grid", "Usa la cuadr&iacute;cula") };
});

const sa = promptOnly((ctx) =>
  ctx.subject === "MATH"
    ? both(
        {
          en: "<p>Explain why {fraction} is less than 1. Show your&nbsp;work.</p>",
          es: "<p>Explica por qu&eacute; {fraction} es menor que 1. Muestra tu&nbsp;trabajo.</p>",
        },
        mathExpression(ctx.rng),
      )
    : both(ctx.rng.pick(SHORT_ANSWER_STEMS), { title: ctx.passage.title }),
);

const wer = promptOnly((ctx) =>
  both(WRITING_STEMS[ctx.writingPurpose] ?? { en: "", es: "" }, { title: ctx.passage.title }),
);

const htqo: Builder = (ctx) => {
  const prompt = withNote(both(ORDER_STEM, { title: ctx.passage.title }), ctx.note);
  const said = sentences(ctx.passage);
  return {
    en: { prompt: prompt.en, htqOrderable: { orderableStrings: said.en } },
    es: { prompt: prompt.es, htqOrderable: { orderableStrings: said.es } },
    esEmpty: { prompt: "", htqOrderable: { orderableStrings: [] } },
  };
};

const span = (html: string) => html.replace(/<p>(.*)<\/p>/, '<span class="interaction">$1</span>');
const htqs: Builder = (ctx) => {
  const prompt = withNote(SELECT_STEM, ctx.note);
  const said = sentences(ctx.passage);
  return {
    en: { prompt: prompt.en, htqSelectable: { interactiveText: `<p>${said.en.map(span).join(" ")}</p>` } },
    es: { prompt: prompt.es, htqSelectable: { interactiveText: `<p>${said.es.map(span).join(" ")}</p>` } },
    // an untranslated htqs has no selectable text at all (the mapping skips it when absent)
    esEmpty: { prompt: "" },
  };
};

const label = (value: string) => ({ type: "label", value });
const answer = (value: boolean) => ({ type: "answer", value });

const mi: Builder = (ctx) => {
  const { rng } = ctx;
  let stemText: { en: string; es: string };
  let rowsEn: string[];
  let rowsEs: string[];
  let headers: { en: string[]; es: string[] };
  if (ctx.subject === "MATH") {
    const n = rng.int(12, 48);
    stemText = both(MATCH_STEM_MATH, { n });
    rowsEn = [
      math(`${mn(n / 2)}${mo("+")}${mn(n / 2)}`),
      math(`${mn(n)}${mo("&#247;")}${mn(2)}`),
      `<p>${n - 1} + 1</p>`,
    ];
    rowsEs = rowsEn;
    headers = { en: ["", "Yes", "No"], es: ["", "S&iacute;", "No"] };
  } else {
    stemText = both(MATCH_STEM_ELA, { title: ctx.passage.title });
    rowsEn = ctx.passage.paragraphs.slice(0, 3);
    rowsEs = ctx.passage.esParagraphs.slice(0, 3);
    headers = { en: ["", "True", "False"], es: ["", "Verdadero", "Falso"] };
  }
  const keys = rowsEn.map(() => rng.chance(0.5));
  const table = (rows: string[], cols: string[]) => ({
    columns: cols.map((c) => ({ label: c })),
    rows: rows.map((r, i) => ({ cells: [label(r), answer(keys[i] ?? false), answer(!keys[i])] })),
  });
  const prompt = withNote(stemText, ctx.note);
  return {
    en: { prompt: prompt.en, table: table(rowsEn, headers.en) },
    es: { prompt: prompt.es, table: table(rowsEs, headers.es) },
    esEmpty: { prompt: "", table: { columns: [], rows: [] } },
  };
};

const ti: Builder = (ctx) => {
  const { rng } = ctx;
  const growth = rng.int(2, 5);
  const start = rng.int(3, 10);
  const prompt = withNote(both(TABLE_STEM, { a: growth }), ctx.note);
  const weeks = [1, 2, 3, 4];
  // given cells hold strings (indexed); response cells hold null or a number (not indexed)
  const rows = (weekWord: string) =>
    weeks.map((w) => ({
      cells: [
        label(`${weekWord} ${w}`),
        w <= 2
          ? { type: "text", value: String(start + growth * (w - 1)) }
          : { type: "response", value: null },
      ],
    }));
  return {
    en: {
      prompt: prompt.en,
      table: {
        title: "<p>Plant Growth</p>",
        columns: [{ label: "<p>Week</p>" }, { label: "Height (cm)" }],
        rows: rows("Week"),
      },
    },
    es: {
      prompt: prompt.es,
      table: {
        title: "<p>Crecimiento de la planta</p>",
        columns: [{ label: "<p>Semana</p>" }, { label: "Altura (cm)" }],
        rows: rows("Semana"),
      },
    },
    esEmpty: { prompt: "", table: { title: "", columns: [], rows: [] } },
  };
};

const stim: Builder = (ctx) => {
  const { rng, passage } = ctx;
  const intro = withNote(both(rng.pick(STIM_INTRO), { title: passage.title }), ctx.note);
  const second = PASSAGES[(PASSAGES.indexOf(passage) + 1) % PASSAGES.length] ?? passage;
  const chosen = rng.chance(0.3) ? [passage, second] : [passage];
  return {
    en: {
      content: intro.en,
      passages: chosen.map((p) => ({ title: p.title, body: p.paragraphs.join("") })),
    },
    es: {
      content: intro.es,
      passages: chosen.map((p) => ({ title: p.esTitle, body: p.esParagraphs.join("") })),
    },
    esEmpty: { content: "", passages: [] },
  };
};

const tut: Builder = (ctx) => {
  const text = withNote(ctx.rng.pick(TUTORIALS), ctx.note);
  return { en: { content: text.en }, es: { content: text.es }, esEmpty: { content: "" } };
};

/** One builder per type (§6.4): the table that says what a type's content object holds. */
export const CONTENT_BUILDERS: Record<ItemType, Builder> = {
  mc: singleChoice(4, () => 1),
  ms: singleChoice(5, (rng) => rng.int(2, 3)),
  ebsr,
  eq,
  gi,
  htqo,
  htqs,
  mi,
  sa,
  ti,
  wer,
  stim,
  tut,
};
