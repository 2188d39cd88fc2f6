/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for tests: it throws on
 * anything a Prometheus server would refuse or silently misread — bad names, bad escapes, a
 * family's samples split up or before its TYPE, duplicate series, histogram buckets that are not
 * cumulative or lack `+Inf` = `_count`.
 */

export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help: string | undefined;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<string>(["counter", "gauge", "histogram", "summary", "untyped"]);

/** As Prometheus reads values (Go's ParseFloat): NaN and Inf in any case (prom-client writes "Nan"). */
function parseValue(text: string, where: string): number {
  const lower = text.toLowerCase();
  if (lower === "nan") return Number.NaN;
  if (lower === "+inf" || lower === "inf" || lower === "+infinity" || lower === "infinity") {
    return Number.POSITIVE_INFINITY;
  }
  if (lower === "-inf" || lower === "-infinity") return Number.NEGATIVE_INFINITY;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: bad value "${text}"`);
  return Number(text);
}

/** Parses `{a="x",b="y"}` starting at `i` (just after `{`); returns labels and the index after `}`. */
function parseLabels(line: string, start: number, where: string): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let i = start;
  for (;;) {
    if (line[i] === "}") return [labels, i + 1];
    const eq = line.indexOf("=", i);
    if (eq < 0) throw new Error(`${where}: label without "="`);
    const name = line.slice(i, eq);
    if (!LABEL_NAME.test(name) || name.startsWith("__"))
      throw new Error(`${where}: bad label name "${name}"`);
    if (name in labels) throw new Error(`${where}: label "${name}" repeated`);
    if (line[eq + 1] !== '"') throw new Error(`${where}: label value of "${name}" is not quoted`);
    let value = "";
    let j = eq + 2;
    for (;;) {
      const c = line[j];
      if (c === undefined) throw new Error(`${where}: unterminated label value`);
      if (c === '"') break;
      if (c === "\\") {
        const e = line[j + 1];
        if (e === "\\") value += "\\";
        else if (e === '"') value += '"';
        else if (e === "n") value += "\n";
        else throw new Error(`${where}: bad escape "\\${e ?? ""}" in a label value`);
        j += 2;
      } else {
        value += c;
        j++;
      }
    }
    labels[name] = value;
    i = j + 1;
    if (line[i] === ",") i++;
    else if (line[i] !== "}") throw new Error(`${where}: expected "," or "}" after a label`);
  }
}

/** The family a sample belongs to, given the declared families. */
function familyOf(sample: string, types: Map<string, MetricType>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (sample.endsWith(suffix)) {
      const base = sample.slice(0, -suffix.length);
      const t = types.get(base);
      if (t === "histogram" || (t === "summary" && suffix !== "_bucket")) return base;
    }
  }
  return sample;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (text !== "" && !text.endsWith("\n")) throw new Error("the exposition must end with a newline");
  const families = new Map<string, Family>();
  const types = new Map<string, MetricType>();
  const finished = new Set<string>();
  const series = new Set<string>();
  let current: string | undefined;

  const lines = text.split("\n");
  lines.pop(); // after the final newline
  lines.forEach((line, index) => {
    const where = `line ${index + 1}`;
    if (line.trim() === "") return;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name = "", rest = ""] = m;
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name "${name}"`);
      if (finished.has(name) || (current !== name && families.get(name)?.samples.length)) {
        throw new Error(`${where}: ${kind} of ${name} after its samples`);
      }
      const family = families.get(name) ?? { name, type: "untyped", help: undefined, samples: [] };
      families.set(name, family);
      if (current && current !== name) finished.add(current);
      current = name;
      if (kind === "HELP") {
        if (family.help !== undefined) throw new Error(`${where}: second HELP for ${name}`);
        family.help = rest;
      } else {
        if (types.has(name)) throw new Error(`${where}: second TYPE for ${name}`);
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type "${rest}"`);
        family.type = rest as MetricType;
        types.set(name, family.type);
      }
      return;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`${where}: not a sample: ${line}`);
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name "${name}"`);
    let labels: Record<string, string> = {};
    let i = nameEnd;
    if (line[i] === "{") [labels, i] = parseLabels(line, i + 1, where);
    if (line[i] !== " ") throw new Error(`${where}: expected a space before the value`);
    const parts = line.slice(i + 1).split(" ");
    if (parts.length < 1 || parts.length > 2) throw new Error(`${where}: expected "value [timestamp]"`);
    const value = parseValue(parts[0] ?? "", where);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`${where}: bad timestamp`);

    const familyName = familyOf(name, types);
    if (finished.has(familyName)) throw new Error(`${where}: samples of ${familyName} are not together`);
    if (current && current !== familyName) finished.add(current);
    current = familyName;
    const family = families.get(familyName) ?? {
      name: familyName,
      type: "untyped" as MetricType,
      help: undefined,
      samples: [],
    };
    families.set(familyName, family);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(key)) throw new Error(`${where}: duplicate series ${key}`);
    series.add(key);
    if (family.type === "counter" && !(value >= 0)) throw new Error(`${where}: negative counter`);
    if (family.type === "histogram" && name === `${familyName}_bucket` && labels.le === undefined) {
      throw new Error(`${where}: histogram bucket without le`);
    }
    family.samples.push({ name, labels, value });
  });

  for (const family of families.values()) if (family.type === "histogram") checkHistogram(family);
  return families;
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, Sample[]>();
  for (const s of family.samples) {
    const { le: _le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const [key, samples] of groups) {
    const buckets = samples
      .filter((s) => s.name.endsWith("_bucket"))
      .map((s) => ({ le: parseValue(s.labels.le ?? "", family.name), value: s.value }))
      .sort((a, b) => a.le - b.le);
    const count = samples.find((s) => s.name === `${family.name}_count`);
    if (!samples.some((s) => s.name === `${family.name}_sum`) || !count) {
      throw new Error(`${family.name}${key}: histogram without _sum or _count`);
    }
    const inf = buckets[buckets.length - 1];
    if (!inf || inf.le !== Number.POSITIVE_INFINITY) throw new Error(`${family.name}${key}: no +Inf bucket`);
    if (inf.value !== count.value) throw new Error(`${family.name}${key}: +Inf bucket differs from _count`);
    for (let i = 1; i < buckets.length; i++) {
      if ((buckets[i]?.value ?? 0) < (buckets[i - 1]?.value ?? 0)) {
        throw new Error(`${family.name}${key}: buckets are not cumulative`);
      }
    }
  }
}

/** The value of one series, or undefined. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}

/** The sum of every series of `name` whose labels include `labels`. */
export function sampleSum(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  let sum = 0;
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
    }
  }
  return sum;
}

/**
 * Our naming conventions, as a list of problems (empty when all is well): `item_sync_` families in
 * lower snake case; counters end in `_total` and nothing else does; histograms measure seconds or
 * bytes; every family has HELP; label names in lower snake case; route labels are templates.
 */
export function conventionProblems(families: Map<string, Family>): string[] {
  const problems: string[] = [];
  for (const f of families.values()) {
    if (!f.help) problems.push(`${f.name}: no HELP`);
    if (f.type === "untyped") problems.push(`${f.name}: no TYPE`);
    if (!f.name.startsWith("item_sync_")) continue; // process_*, nodejs_*: prom-client's standard names
    if (!/^item_sync_[a-z0-9_]+$/.test(f.name)) problems.push(`${f.name}: not lower snake case`);
    if (f.type === "counter" && !f.name.endsWith("_total"))
      problems.push(`${f.name}: counter without _total`);
    if (f.type !== "counter" && f.name.endsWith("_total")) problems.push(`${f.name}: _total on a ${f.type}`);
    if (f.type === "histogram" && !/_(seconds|bytes)$/.test(f.name)) {
      problems.push(`${f.name}: histogram not in seconds or bytes`);
    }
    if (/_(milliseconds|ms|minutes)(_|$)/.test(f.name)) problems.push(`${f.name}: not a base unit`);
    for (const s of f.samples) {
      for (const [label, value] of Object.entries(s.labels)) {
        if (!/^[a-z][a-z0-9_]*$/.test(label)) problems.push(`${f.name}: label name ${label}`);
        if (label === "route" && value !== "unmatched" && !/^\/[a-z0-9_:/*.-]*$/i.test(value)) {
          problems.push(`${f.name}: route label "${value}" is not a template`);
        }
        if (label === "route" && /\/\d+(\/|$)/.test(value)) {
          problems.push(`${f.name}: route label "${value}" holds a raw id`);
        }
      }
    }
  }
  return problems;
}
