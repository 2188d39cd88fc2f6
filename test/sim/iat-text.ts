/**
 * Wording for the simulator's IAT items: passages, question stems, options, table labels and
 * their Spanish forms, written as the authoring tool stores them (HTML fragments with character
 * entities, MathML for mathematics). Data only; iat-content.ts chooses and assembles it.
 *
 * The text is written for the simulator (no item of a real bank is reproduced). It carries what
 * the ingest's keyword cleaning must cope with: `&nbsp;`, `&rsquo;`, `&mdash;`, `&amp;`, `&lt;`,
 * Spanish accents as entities (`&iquest;Qu&eacute;`), `<br/>`, nested inline tags, and MathML
 * that starts with `<math xmlns=` (kept verbatim by the cleaning) next to MathML that does not.
 */

export const MATHML_NS = "http://www.w3.org/1998/Math/MathML";

/** MathML as IAT writes it: `<math xmlns=…>` first, on one line (§3.6.1 protects exactly that). */
export const math = (inner: string) => `<math xmlns="${MATHML_NS}">${inner}</math>`;
export const mn = (n: number | string) => `<mn>${n}</mn>`;
export const mo = (op: string) => `<mo>${op}</mo>`;
export const frac = (a: number, b: number) => `<mfrac>${mn(a)}${mn(b)}</mfrac>`;

export interface Passage {
  title: string;
  esTitle: string;
  paragraphs: string[];
  esParagraphs: string[];
  /** a word of the passage, a fitting meaning and wrong ones, for vocabulary items */
  word: { en: string; es: string; right: string; wrong: string[]; esRight: string; esWrong: string[] };
}

export const PASSAGES: Passage[] = [
  {
    title: "The Clever Fox",
    esTitle: "El zorro astuto",
    paragraphs: [
      "<p>The fox waited by the river until the geese were&nbsp;asleep.</p>",
      "<p>&ldquo;Patience,&rdquo; she whispered, &ldquo;is the <em>cleverest</em> trick of all.&rdquo;</p>",
      "<p>When the moon rose, she crossed the ice without making a sound &mdash; but the oldest goose was already awake.</p>",
    ],
    esParagraphs: [
      "<p>La zorra esper&oacute; junto al r&iacute;o hasta que los gansos se&nbsp;durmieron.</p>",
      "<p>&laquo;La paciencia&raquo;, susurr&oacute;, &laquo;es el truco m&aacute;s <em>astuto</em> de todos&raquo;.</p>",
      "<p>Cuando sali&oacute; la luna, cruz&oacute; el hielo sin hacer ruido, pero el ganso m&aacute;s viejo ya estaba despierto.</p>",
    ],
    word: {
      en: "cleverest",
      es: "astuto",
      right: "smartest",
      wrong: ["slowest", "loudest", "oldest"],
      esRight: "inteligente",
      esWrong: ["lento", "ruidoso", "viejo"],
    },
  },
  {
    title: "Tide Pools at Dawn",
    esTitle: "Pozas de marea al amanecer",
    paragraphs: [
      "<p>At low tide, the rocks near Harbor Point turn into a maze of tiny&nbsp;pools.</p>",
      "<p>Sea stars cling to the stone, and hermit crabs trade shells the way friends trade&nbsp;cards.</p>",
      "<p>Marisol&rsquo;s grandfather told her, &ldquo;Look with your eyes, not your hands&rdquo; &amp; she never forgot it.</p>",
    ],
    esParagraphs: [
      "<p>Con la marea baja, las rocas de Harbor Point se convierten en un laberinto de pozas&nbsp;diminutas.</p>",
      "<p>Las estrellas de mar se aferran a la piedra y los cangrejos ermita&ntilde;os cambian de concha.</p>",
      "<p>El abuelo de Marisol le dijo: &laquo;Mira con los ojos, no con las manos&raquo;, y ella nunca lo olvid&oacute;.</p>",
    ],
    word: {
      en: "cling",
      es: "aferran",
      right: "hold on tightly",
      wrong: ["swim away", "change color", "hide quickly"],
      esRight: "sujetarse con fuerza",
      esWrong: ["alejarse nadando", "cambiar de color", "esconderse r&aacute;pido"],
    },
  },
  {
    title: "The History of Kites",
    esTitle: "La historia de las cometas",
    paragraphs: [
      "<p>People have flown kites for more than two thousand&nbsp;years.</p>",
      "<p>Early kites were made of silk and bamboo; later, scientists used them to study the&nbsp;weather.</p>",
      "<p>Today, kite festivals fill the sky with dragons, fish &mdash; even a 30&#8209;meter&nbsp;octopus.</p>",
    ],
    esParagraphs: [
      "<p>La gente ha volado cometas durante m&aacute;s de dos mil&nbsp;a&ntilde;os.</p>",
      "<p>Las primeras cometas eran de seda y bamb&uacute;; m&aacute;s tarde, los cient&iacute;ficos las usaron para estudiar el&nbsp;clima.</p>",
      "<p>Hoy, los festivales llenan el cielo de dragones, peces e incluso un pulpo de 30&nbsp;metros.</p>",
    ],
    word: {
      en: "festivals",
      es: "festivales",
      right: "large public celebrations",
      wrong: ["science experiments", "weather reports", "silk factories"],
      esRight: "grandes celebraciones p&uacute;blicas",
      esWrong: ["experimentos cient&iacute;ficos", "informes del clima", "f&aacute;bricas de seda"],
    },
  },
  {
    title: "Why Bees Dance",
    esTitle: "Por qu&eacute; bailan las abejas",
    paragraphs: [
      "<p>A honeybee that finds flowers flies home and performs a &ldquo;waggle&nbsp;dance.&rdquo;</p>",
      "<p>The angle of the dance points the way; its length tells how far to&nbsp;fly.</p>",
      "<p>Scientists call this one of the most <strong>remarkable</strong> messages in the animal&nbsp;world.</p>",
    ],
    esParagraphs: [
      "<p>Una abeja que encuentra flores vuela a casa y hace una &laquo;danza del&nbsp;meneo&raquo;.</p>",
      "<p>El &aacute;ngulo de la danza se&ntilde;ala el camino; su duraci&oacute;n indica la&nbsp;distancia.</p>",
      "<p>Los cient&iacute;ficos lo llaman uno de los mensajes m&aacute;s <strong>notables</strong> del mundo&nbsp;animal.</p>",
    ],
    word: {
      en: "remarkable",
      es: "notables",
      right: "worth noticing",
      wrong: ["hard to hear", "very small", "easy to forget"],
      esRight: "dignos de atenci&oacute;n",
      esWrong: ["dif&iacute;ciles de o&iacute;r", "muy peque&ntilde;os", "f&aacute;ciles de olvidar"],
    },
  },
  {
    title: "The Lighthouse Keeper",
    esTitle: "El guardi&aacute;n del faro",
    paragraphs: [
      "<p>For forty years, Ada Wells climbed 114 steps every evening to light the&nbsp;lamp.</p>",
      "<p>During the storm of 1911 she kept the light burning for three nights without&nbsp;sleep.</p>",
      "<p>&ldquo;A light is a promise,&rdquo; she wrote in her log, &ldquo;and I keep my&nbsp;promises.&rdquo;</p>",
    ],
    esParagraphs: [
      "<p>Durante cuarenta a&ntilde;os, Ada Wells subi&oacute; 114 escalones cada tarde para encender la&nbsp;l&aacute;mpara.</p>",
      "<p>En la tormenta de 1911 mantuvo la luz encendida tres noches sin&nbsp;dormir.</p>",
      "<p>&laquo;Una luz es una promesa&raquo;, escribi&oacute; en su diario, &laquo;y yo cumplo mis&nbsp;promesas&raquo;.</p>",
    ],
    word: {
      en: "log",
      es: "diario",
      right: "a written record",
      wrong: ["a piece of wood", "a long staircase", "a ship&rsquo;s lamp"],
      esRight: "un registro escrito",
      esWrong: ["un trozo de madera", "una escalera larga", "una l&aacute;mpara de barco"],
    },
  },
  {
    title: "Recycling Week at Lincoln School",
    esTitle: "La semana del reciclaje en la escuela Lincoln",
    paragraphs: [
      "<p>Room 12 collected 348 cans &amp; bottles in five&nbsp;days.</p>",
      "<p>The class graphed each day&rsquo;s total and noticed that Thursday&rsquo;s bar was the&nbsp;tallest.</p>",
      "<p>&ldquo;Small things add up,&rdquo; said Mr.&nbsp;Ortiz, &ldquo;when everyone does a&nbsp;little.&rdquo;</p>",
    ],
    esParagraphs: [
      "<p>El sal&oacute;n 12 junt&oacute; 348 latas y botellas en cinco&nbsp;d&iacute;as.</p>",
      "<p>La clase hizo una gr&aacute;fica de cada d&iacute;a y not&oacute; que la barra del jueves era la m&aacute;s&nbsp;alta.</p>",
      "<p>&laquo;Las cosas peque&ntilde;as suman&raquo;, dijo el Sr.&nbsp;Ortiz, &laquo;cuando todos hacen un&nbsp;poco&raquo;.</p>",
    ],
    word: {
      en: "graphed",
      es: "gr&aacute;fica",
      right: "showed in a chart",
      wrong: ["threw away", "counted twice", "wrote a story about"],
      esRight: "mostr&oacute; en un diagrama",
      esWrong: ["tir&oacute;", "cont&oacute; dos veces", "escribi&oacute; un cuento sobre"],
    },
  },
];

/** ELA stems; `{title}` and `{word}` are filled in. Each has its Spanish form. */
export const ELA_STEMS: Array<{ en: string; es: string }> = [
  {
    en: "<p>Which sentence from &ldquo;{title}&rdquo; best shows how the main character&nbsp;feels?</p>",
    es: "<p>&iquest;Qu&eacute; oraci&oacute;n de &laquo;{title}&raquo; muestra mejor c&oacute;mo se siente el personaje&nbsp;principal?</p>",
  },
  {
    en: "<p>What is the <b>main idea</b> of &ldquo;{title}&rdquo;?</p>",
    es: "<p>&iquest;Cu&aacute;l es la <b>idea principal</b> de &laquo;{title}&raquo;?</p>",
  },
  {
    en: "<p>Read the sentence from the passage.<br/>What does the word <em>{word}</em> mean?</p>",
    es: "<p>Lee la oraci&oacute;n del texto.<br/>&iquest;Qu&eacute; significa la palabra <em>{word}</em>?</p>",
  },
  {
    en: "<p>Which detail <u>best</u> supports the central idea of the&nbsp;passage?</p>",
    es: "<p>&iquest;Qu&eacute; detalle apoya <u>mejor</u> la idea central del&nbsp;texto?</p>",
  },
  {
    en: "<p>How does the author organize the information in &ldquo;{title}&rdquo;?</p>",
    es: "<p>&iquest;C&oacute;mo organiza el autor la informaci&oacute;n en &laquo;{title}&raquo;?</p>",
  },
];

export const ELA_ORGANIZATION: Array<{ en: string; es: string }> = [
  { en: "<p>in time order</p>", es: "<p>en orden cronol&oacute;gico</p>" },
  { en: "<p>as a problem and its solution</p>", es: "<p>como un problema y su soluci&oacute;n</p>" },
  { en: "<p>by comparing two things</p>", es: "<p>comparando dos cosas</p>" },
  { en: "<p>as a list of causes &amp; effects</p>", es: "<p>como una lista de causas y efectos</p>" },
];

export const SHORT_ANSWER_STEMS: Array<{ en: string; es: string }> = [
  {
    en: "<p>Explain what &ldquo;{title}&rdquo; teaches about patience. Use <b>two</b> details from the passage to support your&nbsp;answer.</p>",
    es: "<p>Explica qu&eacute; ense&ntilde;a &laquo;{title}&raquo; sobre la paciencia. Usa <b>dos</b> detalles del texto para apoyar tu&nbsp;respuesta.</p>",
  },
  {
    en: "<p>Why did the author write &ldquo;{title}&rdquo;? Support your answer with evidence from the&nbsp;text.</p>",
    es: "<p>&iquest;Por qu&eacute; escribi&oacute; el autor &laquo;{title}&raquo;? Apoya tu respuesta con evidencia del&nbsp;texto.</p>",
  },
];

export const WRITING_STEMS: Record<string, { en: string; es: string }> = {
  Narrative: {
    en: "<p>Write a <b>narrative</b> about a character who has to wait for something important. Use dialogue and descriptive details.</p><p><i>Your story will be scored on organization, development and conventions.</i></p>",
    es: "<p>Escribe una <b>narraci&oacute;n</b> sobre un personaje que debe esperar algo importante. Usa di&aacute;logo y detalles descriptivos.</p>",
  },
  InformationalExplanatory: {
    en: "<p>Write an <b>informational</b> article for your school newsletter that explains &ldquo;{title}&rdquo; to younger students.</p>",
    es: "<p>Escribe un art&iacute;culo <b>informativo</b> para el bolet&iacute;n escolar que explique &laquo;{title}&raquo; a estudiantes m&aacute;s j&oacute;venes.</p>",
  },
  OpinionArgumentative: {
    en: "<p>Should every school hold a recycling week? Write an <b>opinion</b> essay &mdash; state your claim &amp; support it with reasons.</p>",
    es: "<p>&iquest;Deber&iacute;a cada escuela tener una semana del reciclaje? Escribe un ensayo de <b>opini&oacute;n</b> con tus razones.</p>",
  },
};

export const EBSR_PART_B: { en: string; es: string } = {
  en: "<p>Which sentence from the passage <b>best</b> supports the answer to Part&nbsp;A?</p>",
  es: "<p>&iquest;Qu&eacute; oraci&oacute;n del texto apoya <b>mejor</b> la respuesta de la Parte&nbsp;A?</p>",
};

export const EBSR_INTRO: { en: string; es: string } = {
  en: "<p>This question has two parts. First, answer Part&nbsp;A. Then, answer Part&nbsp;B.</p>",
  es: "<p>Esta pregunta tiene dos partes. Primero, contesta la Parte&nbsp;A. Luego, contesta la Parte&nbsp;B.</p>",
};

export const ORDER_STEM: { en: string; es: string } = {
  en: "<p>Put the events from &ldquo;{title}&rdquo; in the order in which they happen. Drag each sentence into the correct&nbsp;place.</p>",
  es: "<p>Ordena los sucesos de &laquo;{title}&raquo; en el orden en que ocurren. Arrastra cada oraci&oacute;n al lugar&nbsp;correcto.</p>",
};

export const SELECT_STEM: { en: string; es: string } = {
  en: "<p>Click on the <b>two</b> sentences that show what the character&nbsp;values.</p>",
  es: "<p>Haz clic en las <b>dos</b> oraciones que muestran lo que valora el&nbsp;personaje.</p>",
};

export const MATCH_STEM_ELA: { en: string; es: string } = {
  en: "<p>Decide whether each statement about &ldquo;{title}&rdquo; is true or false. Select one box in each&nbsp;row.</p>",
  es: "<p>Decide si cada enunciado sobre &laquo;{title}&raquo; es verdadero o falso. Marca una casilla en cada&nbsp;fila.</p>",
};

export const MATCH_STEM_MATH: { en: string; es: string } = {
  en: "<p>Decide whether each expression is equal to {n}. Select <i>Yes</i> or <i>No</i> for each&nbsp;expression.</p>",
  es: "<p>Decide si cada expresi&oacute;n es igual a {n}. Selecciona <i>S&iacute;</i> o <i>No</i> para cada&nbsp;expresi&oacute;n.</p>",
};

/** Mathematics stems; `{a}`, `{b}`, `{c}` and `{x}` are filled in (MathML where IAT uses it). */
export const MATH_STEMS: Array<{ en: string; es: string }> = [
  {
    en: "<p>What is the value of {expr}?</p>",
    es: "<p>&iquest;Cu&aacute;l es el valor de {expr}?</p>",
  },
  {
    en: "<p>A bakery packs {a} muffins in each box. It fills {b} boxes. How many muffins does the bakery&nbsp;pack?</p>",
    es: "<p>Una panader&iacute;a pone {a} panecillos en cada caja. Llena {b} cajas. &iquest;Cu&aacute;ntos panecillos&nbsp;empaca?</p>",
  },
  {
    en: "<p>A rectangle is {a}&nbsp;cm long and {b}&nbsp;cm wide. What is its area, in square&nbsp;centimeters?</p>",
    es: "<p>Un rect&aacute;ngulo mide {a}&nbsp;cm de largo y {b}&nbsp;cm de ancho. &iquest;Cu&aacute;l es su &aacute;rea en cent&iacute;metros&nbsp;cuadrados?</p>",
  },
  {
    en: "<p>Solve for <math><mi>x</mi></math>: {equation}</p>",
    es: "<p>Resuelve para <math><mi>x</mi></math>: {equation}</p>",
  },
];

export const EQUATION_STEM: { en: string; es: string } = {
  en: "<p>Enter an equation that shows the total number of muffins in {b} boxes of {a}&nbsp;muffins.</p>",
  es: "<p>Escribe una ecuaci&oacute;n que muestre el total de panecillos en {b} cajas de {a}&nbsp;panecillos.</p>",
};

export const GRID_STEMS: string[] = [
  "<p>Use the coordinate grid to plot the point {point}.</p>",
  "<p>Drag the bars to complete the graph of the data in the&nbsp;table.</p>",
  "<p>Draw a rectangle with an area of {c} square&nbsp;units.</p>",
];

export const TABLE_STEM: { en: string; es: string } = {
  en: "<p>The table shows the height of a plant each week. Complete the table so the plant grows {a}&nbsp;cm each&nbsp;week.</p>",
  es: "<p>La tabla muestra la altura de una planta cada semana. Completa la tabla para que la planta crezca {a}&nbsp;cm cada&nbsp;semana.</p>",
};

export const RATIONALES: string[] = [
  "<p>Students who select this option may have confused the main idea with a supporting&nbsp;detail.</p>",
  "<p>This is the key: the text states it directly.</p>",
  "<p>Students may have added instead of multiplied.</p>",
  "<p>This option reverses the order of the&nbsp;events.</p>",
  "",
];

export const STIM_INTRO: Array<{ en: string; es: string }> = [
  {
    en: "<p>Read the passage. Then answer the questions that&nbsp;follow.</p>",
    es: "<p>Lee el texto. Luego contesta las preguntas que&nbsp;siguen.</p>",
  },
  {
    en: "<p>Read &ldquo;{title}.&rdquo; Use it to answer questions&nbsp;1&ndash;6.</p>",
    es: "<p>Lee &laquo;{title}&raquo;. &Uacute;salo para contestar las preguntas&nbsp;1&ndash;6.</p>",
  },
  {
    en: "<p>Your class is studying <strong>{title}</strong>. Read the sources &amp; take notes.</p>",
    es: "<p>Tu clase estudia <strong>{title}</strong>. Lee las fuentes y toma notas.</p>",
  },
];

export const TUTORIALS: Array<{ en: string; es: string }> = [
  {
    en: "<p>Use the <strong>arrows</strong> to move between&nbsp;questions.</p>",
    es: "<p>Usa las <strong>flechas</strong> para moverte entre las&nbsp;preguntas.</p>",
  },
  {
    en: "<p>To select text, click the sentence. Click it again to <em>clear</em> your&nbsp;choice.</p>",
    es: "<p>Para seleccionar texto, haz clic en la oraci&oacute;n. Haz clic otra vez para <em>borrar</em> tu&nbsp;selecci&oacute;n.</p>",
  },
  {
    en: "<p>Type your equation with the on-screen keypad. The <b>&lt;</b> and <b>&gt;</b> keys move the&nbsp;cursor.</p>",
    es: "<p>Escribe tu ecuaci&oacute;n con el teclado en pantalla. Las teclas <b>&lt;</b> y <b>&gt;</b> mueven el&nbsp;cursor.</p>",
  },
  {
    en: "<p>Drag each object to a box. To move it back, drag it to the&nbsp;tray.</p>",
    es: "<p>Arrastra cada objeto a una caja. Para regresarlo, arr&aacute;stralo a la&nbsp;bandeja.</p>",
  },
];

/** Glossary terms (unused by the ingest, present in the document). */
export const GLOSSARY_TERMS: Array<{ term: string; definition: string }> = [
  { term: "patience", definition: "the ability to wait calmly" },
  { term: "tide", definition: "the regular rise and fall of the sea" },
  { term: "bamboo", definition: "a tall plant with hard, hollow stems" },
  { term: "area", definition: "the amount of space inside a shape" },
  { term: "equivalent", definition: "equal in value" },
];

/** Edits an author makes between revisions: appended to a prompt, so every revision differs. */
export const REVISION_NOTES: Array<{ en: string; es: string }> = [
  { en: "", es: "" },
  { en: "<p><i>Choose one answer.</i></p>", es: "<p><i>Elige una respuesta.</i></p>" },
  { en: "<p><i>Use the passage to help you.</i></p>", es: "<p><i>Usa el texto como ayuda.</i></p>" },
  {
    en: "<p><i>Read carefully before you&nbsp;answer.</i></p>",
    es: "<p><i>Lee con atenci&oacute;n antes de&nbsp;contestar.</i></p>",
  },
  {
    en: "<p><i>Look back at paragraph&nbsp;2.</i></p>",
    es: "<p><i>Vuelve a leer el p&aacute;rrafo&nbsp;2.</i></p>",
  },
  { en: "<p><i>Show your thinking.</i></p>", es: "<p><i>Muestra tu razonamiento.</i></p>" },
];
