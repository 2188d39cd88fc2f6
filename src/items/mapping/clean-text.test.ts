import { describe, expect, test } from "bun:test";
import { clean, htmlText, protectMathMl } from "./clean-text.ts";

const MATH = `<math xmlns="http://www.w3.org/1998/Math/MathML"><mn>6</mn><mo>&#215;</mo><mn>5</mn></math>`;

describe("clean: every row of the §3.6.1 table", () => {
  const rows: [input: string, expected: string][] = [
    ["<p>Which word best describes&nbsp;the <b>fox</b>?</p>", "Which word best describes the fox?"],
    ["<p>&iquest;Qu&eacute; palabra describe al <em>zorro</em>?</p>", "¿Qué palabra describe al zorro?"],
    ["<p>line one<br/>line\ttwo</p><p>  para &amp; more</p>", "line one line two para & more"],
    ["<p>A &lt;tag&gt; &mdash; done</p>", "A <tag> — done"],
    [`<p>Solve ${MATH} now</p>`, `Solve ${MATH} now`],
    ["    This is a      test   ", "This is a test"],
    ["<p></p>", ""],
  ];
  test.each(rows)("%p", (input, expected) => {
    expect(clean(input)).toBe(expected);
  });
});

describe("clean: MathML that is not protected loses its tags like any HTML", () => {
  test("a <math> tag whose first attribute is not xmlns=", () => {
    const input = `<p>Solve <math display="block" xmlns="http://www.w3.org/1998/Math/MathML"><mn>6</mn><mo>&#215;</mo><mn>5</mn></math> now</p>`;
    expect(clean(input)).toBe("Solve 6×5 now");
  });

  test("a fragment that spans lines", () => {
    const input = `<p>Solve <math xmlns="http://www.w3.org/1998/Math/MathML">\n<mn>6</mn></math> now</p>`;
    expect(clean(input)).toBe("Solve 6 now");
  });

  test("a line break of Java's set other than LF (U+2028) also stops protection", () => {
    const input = `<p>x <math xmlns="m"><mn>1</mn>\u2028<mn>2</mn></math></p>`;
    expect(clean(input)).toBe("x 1\u20282");
  });

  test("an opening literal without any </math> after it", () => {
    expect(clean(`<p>a <math xmlns="m"><mn>1</mn></p>`)).toBe("a 1");
  });

  test("upper-case <MATH xmlns= is not the literal", () => {
    expect(clean(`<p>a <MATH xmlns="m"><mn>1</mn></MATH></p>`)).toBe("a 1");
  });
});

describe("clean: protected MathML comes back byte for byte", () => {
  test("two fragments in one string, entities left encoded", () => {
    const second = `<math xmlns="m"><mi>x</mi><mo>&lt;</mo></math>`;
    expect(clean(`<p>${MATH} and&nbsp;${second}</p>`)).toBe(`${MATH} and ${second}`);
  });

  test("a fragment holding $& and $1 (no replacement patterns applied)", () => {
    const fragment = `<math xmlns="m"><mi>$&amp;$1$$</mi></math>`;
    expect(clean(`<b>cost</b> ${fragment}`)).toBe(`cost ${fragment}`);
  });

  test("shortest match: the first </math> ends the fragment", () => {
    const input = `<math xmlns="a"><mn>1</mn></math><p>mid</p><math xmlns="b"><mn>2</mn></math>`;
    expect(clean(input)).toBe(`<math xmlns="a"><mn>1</mn></math> mid <math xmlns="b"><mn>2</mn></math>`);
  });

  test("a start that crosses a line break is skipped, a later one on one line is protected", () => {
    const { text, fragments } = protectMathMl(`<math xmlns="a">\n</math> <math xmlns="b">y</math>`);
    expect([...fragments.values()]).toEqual([`<math xmlns="b">y</math>`]);
    expect(text.startsWith(`<math xmlns="a">\n</math> [`)).toBe(true);
    for (const token of fragments.keys()) expect(token).toMatch(/^\[[0-9a-z-]+\]$/);
  });
});

describe("htmlText: jsoup text() spacing", () => {
  const rows: [input: string, expected: string][] = [
    ["<div>One</div>Two", "One Two"],
    ["<p>a</p><p>b</p>", "a b"],
    ["<ul><li>a</li><li>b</li></ul>", "a b"],
    ["<table><tr><td>a</td><td>b</td></tr></table>", "a b"],
    ["a<br>b", "a b"],
    ["a</br>b", "a b"],
    ["<span>a</span><span>b</span>", "ab"],
    ["x<b>y</b>z", "xyz"],
    ["<p>a<p>b", "a b"],
    ["<div>One</div><custom>x</custom>", "Onex"],
    ["<script>var a = 1;</script>t<style>p{}</style>", "t"],
    ["<title>T</title><p>body</p>", "T body"],
    ["<p>a\u200bb\u00adc</p>", "abc"],
    ["&amp &lt;b&gt; &copy", "& <b> ©"],
    ["<!-- note --><p>c</p>", "c"],
    ["<template><p>in</p></template>out", "in out"],
    ["<noscript><p>n</p></noscript>", "n"],
    ["a&nbsp;&nbsp; b", "a b"],
    ["<div>a</div><p>b</p>", "a b"],
    ["<div>a</div><div>b</div>", "a b"],
  ];
  test.each(rows)("%p", (input, expected) => {
    expect(htmlText(input)).toBe(expected);
  });

  test("pre keeps its whitespace for step 2; step 4 still collapses it", () => {
    expect(htmlText("<pre>a   b\u00a0</pre>")).toBe("a   b\u00a0");
    expect(clean("<pre>a   b\n\u00a0c</pre>")).toBe("a b c");
  });

  test("deep nesting does not exhaust the stack", () => {
    const depth = 20_000;
    expect(clean(`${"<span>".repeat(depth)}deep${"</span>".repeat(depth)}`)).toBe("deep");
  });
});

describe("clean: steps 3 and 4", () => {
  test("vertical tab and form feed collapse; other control characters stay inside", () => {
    expect(clean("a\u000b\u000bb")).toBe("a b");
    expect(clean("a\u0001b")).toBe("a\u0001b");
  });

  test("a string of no-break spaces only is empty", () => {
    expect(clean("&nbsp;\u00a0 &nbsp;")).toBe("");
  });
});
