/**
 * The Helm chart (charts/item-sync) with a real helm binary (scripts/helm.sh): lint --strict and
 * template with the default values, with test/chart/values-all.yaml (every option on) and with an
 * existing Secret; the rendered objects are parsed and checked. Also the Dockerfile's structure
 * (test/container builds it and runs the rendered pods from it).
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, NEEDS_ALL } from "../../src/config/config.ts";
import { CONFIG_VARIABLES } from "../../src/config/variables.ts";
import { containerEnv, type K8sObject as PodObject } from "../container/pod.ts";

const root = join(import.meta.dir, "../..");
const chart = join(root, "charts/item-sync");
const valuesAll = join(import.meta.dir, "values-all.yaml");
const REQUIRED_VALUES = join(root, "charts/examples/minimal-values.yaml");

const SECRET_VARIABLES = [
  "GITLAB_TOKEN",
  "API_TOKENS",
  "WEBHOOK_SECRET",
  "DATABASE_URL",
  "AMQP_URL",
  "AUTH_CLIENT_SECRET",
];

interface Meta {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  exec?: { command: string[] };
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[] };
  seccompProfile?: { type: string };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name: string; containerPort: number; protocol?: string }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  securityContext?: SecurityContext;
  terminationGracePeriodSeconds?: number;
  automountServiceAccountToken?: boolean;
  restartPolicy?: string;
  volumes?: { name: string; emptyDir?: Record<string, unknown> }[];
}
interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}
interface ScrapeEndpoint {
  port: string;
  path: string;
  interval?: string;
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  data?: Record<string, string>;
  type?: string;
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> } & Record<string, unknown>;
    template?: PodTemplate;
    ports?: { name: string; port: number; targetPort: string | number }[];
    minAvailable?: number | string;
    maxUnavailable?: number | string;
    rules?: { host: string; http: { paths: { backend: { service: { name: string } } }[] } }[];
    tls?: { secretName: string; hosts: string[] }[];
    endpoints?: ScrapeEndpoint[];
    podMetricsEndpoints?: ScrapeEndpoint[];
    [key: string]: unknown;
  };
}

let helmPath = "";

/**
 * helm with `args`; `template` and `lint` get the values item-sync cannot start without
 * (charts/examples/minimal-values.yaml) right after the chart, before the test's own, unless
 * `bare`: the schema refuses a rendering without them.
 */
function helm(
  args: string[],
  opts: { bare?: boolean } = {},
): { code: number; stdout: string; stderr: string } {
  const at = args.indexOf(chart);
  const withRequired =
    !opts.bare && at >= 0 && (args[0] === "template" || args[0] === "lint")
      ? [...args.slice(0, at + 1), "-f", REQUIRED_VALUES, ...args.slice(at + 1)]
      : args;
  const proc = Bun.spawnSync([helmPath, ...withRequired], {
    cwd: root,
    env: {
      ...process.env,
      HELM_CACHE_HOME: join(root, ".tmp/helm/home/cache"),
      HELM_CONFIG_HOME: join(root, ".tmp/helm/home/config"),
      HELM_DATA_HOME: join(root, ".tmp/helm/home/data"),
    },
  });
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

function lint(extra: string[] = []) {
  return helm(["lint", "--strict", chart, ...extra]);
}

function render(extra: string[] = []): { text: string; objects: K8sObject[] } {
  const out = helm(["template", "rel", chart, "--namespace", "imrt", ...extra]);
  if (out.code !== 0) throw new Error(`helm template failed: ${out.stderr}`);
  const parsed = Bun.YAML.parse(out.stdout) as unknown;
  const docs = (Array.isArray(parsed) ? parsed : [parsed]) as (K8sObject | null)[];
  return { text: out.stdout, objects: docs.filter((d): d is K8sObject => d != null) };
}

function all(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

function one(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${found.length}`);
  return found[0] as K8sObject;
}

function podTemplate(o: K8sObject): PodTemplate {
  const t = o.spec?.template;
  if (!t) throw new Error(`${o.kind} ${o.metadata.name} has no pod template`);
  return t;
}

function container(o: K8sObject, name: string): Container {
  const c = podTemplate(o).spec.containers.find((x) => x.name === name);
  if (!c) throw new Error(`${o.kind} ${o.metadata.name} has no container ${name}`);
  return c;
}

function env(c: Container, name: string): EnvVar | undefined {
  return c.env?.find((e) => e.name === name);
}

/** Every workload (Deployment, Job) of the rendering. */
function workloads(objects: K8sObject[]): K8sObject[] {
  return objects.filter((o) => o.kind === "Deployment" || o.kind === "Job");
}

function expectHardened(o: K8sObject) {
  const pod = podTemplate(o).spec;
  expect(pod.securityContext?.runAsNonRoot).toBe(true);
  expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
  expect(pod.securityContext?.seccompProfile?.type).toBe("RuntimeDefault");
  expect(pod.automountServiceAccountToken).toBe(false);
  expect(pod.volumes?.find((v) => v.name === "tmp")?.emptyDir).toBeDefined();
  for (const c of pod.containers) {
    const sc = c.securityContext;
    expect(sc?.runAsNonRoot).toBe(true);
    expect(sc?.readOnlyRootFilesystem).toBe(true);
    expect(sc?.allowPrivilegeEscalation).toBe(false);
    expect(sc?.privileged).not.toBe(true);
    expect(sc?.capabilities?.drop).toContain("ALL");
    expect(sc?.seccompProfile?.type).toBe("RuntimeDefault");
    expect(c.volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
    expect(c.resources?.requests).toBeDefined();
    expect(c.resources?.limits?.memory).toBeDefined();
  }
}

/** Secret variables only ever come from a secretKeyRef of `secretName`; the ConfigMap holds none. */
function expectSecretsByReference(objects: K8sObject[], secretName: string) {
  for (const o of workloads(objects)) {
    for (const c of podTemplate(o).spec.containers) {
      for (const e of c.env ?? []) {
        if (!SECRET_VARIABLES.includes(e.name)) continue;
        expect(e.value).toBeUndefined();
        expect(e.valueFrom?.secretKeyRef?.name).toBe(secretName);
      }
      for (const from of c.envFrom ?? []) expect(from.secretRef).toBeUndefined();
    }
  }
  for (const cm of all(objects, "ConfigMap")) {
    for (const key of Object.keys(cm.data ?? {})) expect(SECRET_VARIABLES).not.toContain(key);
  }
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

beforeAll(() => {
  const proc = Bun.spawnSync(["bash", join(root, "scripts/helm.sh")], { cwd: root });
  if (proc.exitCode !== 0) throw new Error(`scripts/helm.sh failed: ${proc.stderr.toString()}`);
  helmPath = proc.stdout.toString().trim();
}, 120_000);

describe("helm lint --strict", () => {
  test("passes with the default values and the required ones (charts/examples/minimal-values.yaml)", () => {
    const out = lint();
    expect(out.stdout + out.stderr).toContain("0 chart(s) failed");
    expect(out.code).toBe(0);
  });

  test("passes with every option on (values-all.yaml)", () => {
    const out = lint(["-f", valuesAll]);
    expect(out.stdout + out.stderr).toContain("0 chart(s) failed");
    expect(out.code).toBe(0);
  });

  test("passes with an existing Secret and the migration hook", () => {
    const out = lint([
      "--set",
      "secrets.existingSecret=item-sync-secrets,migrations.mode=hook,worker.enabled=true",
    ]);
    expect(out.code).toBe(0);
  });
});

describe("helm template with the default values and the required ones", () => {
  let objects: K8sObject[] = [];
  beforeAll(() => {
    objects = render().objects;
  });

  test("renders serve only: Deployment, Service, ConfigMap, Secret, PDB, NetworkPolicy; no worker, Job, Ingress", () => {
    expect(objects.map((o) => o.kind).sort()).toEqual([
      "ConfigMap",
      "Deployment",
      "NetworkPolicy",
      "PodDisruptionBudget",
      "Secret",
      "Service",
    ]);
    const serve = one(objects, "Deployment", "rel-item-sync");
    expect(serve.spec?.replicas).toBeGreaterThanOrEqual(1);
    expect(container(serve, "serve").args).toEqual(["serve"]);
    expect(container(serve, "serve").image).toBe("registry.example.org/imrt/item-sync:0.1.0");
  });

  test("serve is non-root with a read-only root filesystem, no privilege escalation, no capabilities", () => {
    expectHardened(one(objects, "Deployment", "rel-item-sync"));
  });

  test("without secrets.values.WEBHOOK_SECRET the chart's Secret holds a generated one of 32 characters", () => {
    const secret = one(objects, "Secret", "rel-item-sync");
    const value = Buffer.from(secret.data?.WEBHOOK_SECRET ?? "", "base64").toString();
    expect(value).toMatch(/^[A-Za-z0-9]{32}$/);
  });

  test("serve has liveness, readiness and startup probes on its metrics port (METRICS_PORT)", () => {
    const c = container(one(objects, "Deployment", "rel-item-sync"), "serve");
    expect(c.ports).toContainEqual({ name: "http", containerPort: 8080, protocol: "TCP" });
    expect(c.ports).toContainEqual({ name: "metrics", containerPort: 9090, protocol: "TCP" });
    expect(c.livenessProbe?.httpGet).toEqual({ path: "/health/live", port: "metrics" });
    expect(c.readinessProbe?.httpGet).toEqual({ path: "/health/ready", port: "metrics" });
    expect(c.startupProbe?.httpGet).toEqual({ path: "/health/live", port: "metrics" });
    expect(env(c, "PORT")?.value).toBe("8080");
    expect(env(c, "METRICS_PORT")?.value).toBe("9090");
  });

  test("the Service's metrics port is for scrapers only: the Ingress routes port http", () => {
    const service = one(objects, "Service", "rel-item-sync");
    expect(service.spec?.ports?.map((p) => [p.name, p.targetPort])).toEqual([
      ["http", "http"],
      ["metrics", "metrics"],
    ]);
    const { objects: withIngress } = render(["--set", "ingress.enabled=true"]);
    const ingress = one(withIngress, "Ingress", "rel-item-sync");
    const backends = (ingress.spec?.rules ?? []).flatMap((r) =>
      r.http.paths.map((p) => (p.backend.service as unknown as { port: { name: string } }).port.name),
    );
    expect(backends.length).toBeGreaterThan(0);
    expect(new Set(backends)).toEqual(new Set(["http"]));
  });

  test("the grace period outlasts the service's 25 s graceful shutdown", () => {
    const pod = podTemplate(one(objects, "Deployment", "rel-item-sync")).spec;
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(25);
  });

  test("serve runs the ingest workers and migrates at start-up (advisory lock)", () => {
    const c = container(one(objects, "Deployment", "rel-item-sync"), "serve");
    expect(env(c, "INGEST_ENABLED")?.value).toBe("true");
    expect(env(c, "DB_MIGRATE")?.value).toBe("true");
  });

  test("every secret variable comes from the chart's Secret by reference", () => {
    expectSecretsByReference(objects, "rel-item-sync");
    const c = container(one(objects, "Deployment", "rel-item-sync"), "serve");
    for (const name of SECRET_VARIABLES) expect(env(c, name)?.valueFrom?.secretKeyRef?.key).toBe(name);
    const secret = one(objects, "Secret", "rel-item-sync");
    // required keys always exist (so pods start and the binary names what is missing)
    for (const key of ["GITLAB_TOKEN", "DATABASE_URL", "AMQP_URL"]) expect(secret.data).toHaveProperty(key);
    expect(env(c, "GITLAB_TOKEN")?.valueFrom?.secretKeyRef?.optional).toBeUndefined();
    expect(env(c, "API_TOKENS")?.valueFrom?.secretKeyRef?.optional).toBe(true);
  });

  test("envFrom the ConfigMap of plain settings; empty values are left to the binary's defaults", () => {
    const cm = one(objects, "ConfigMap", "rel-item-sync");
    expect(cm.data?.SYNC_CRON).toBe("0 9 * * *");
    expect(cm.data).not.toHaveProperty("TRACE_URL_TEMPLATE");
    const c = container(one(objects, "Deployment", "rel-item-sync"), "serve");
    expect(c.envFrom).toEqual([{ configMapRef: { name: "rel-item-sync" } }]);
  });

  test("pods carry config and secret checksums", () => {
    const annotations = podTemplate(one(objects, "Deployment", "rel-item-sync")).metadata.annotations ?? {};
    expect(annotations["checksum/config"]).toMatch(/^[0-9a-f]{64}$/);
    expect(annotations["checksum/secret"]).toMatch(/^[0-9a-f]{64}$/);
  });

  test("the Service and the PodDisruptionBudget select the serve pods", () => {
    const labels = podTemplate(one(objects, "Deployment", "rel-item-sync")).metadata.labels;
    const service = one(objects, "Service", "rel-item-sync");
    expect(selects(service.spec?.selector as Record<string, string>, labels)).toBe(true);
    expect(service.spec?.ports?.[0]?.targetPort).toBe("http");
    const pdb = one(objects, "PodDisruptionBudget", "rel-item-sync");
    expect(selects(pdb.spec?.selector?.matchLabels, labels)).toBe(true);
    expect(pdb.spec?.maxUnavailable).toBe(1);
  });
});

describe("helm template with every option on (values-all.yaml)", () => {
  let text = "";
  let objects: K8sObject[] = [];
  beforeAll(() => {
    ({ text, objects } = render(["-f", valuesAll]));
  });

  test("renders both Deployments, the migration Job, Ingress, monitors, alerts, dashboard, NetworkPolicy and two PDBs", () => {
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(kinds).toEqual([
      "ConfigMap/rel-item-sync",
      "ConfigMap/rel-item-sync-dashboard",
      "Deployment/rel-item-sync",
      "Deployment/rel-item-sync-worker",
      "Ingress/rel-item-sync",
      "Job/rel-item-sync-migrate",
      "NetworkPolicy/rel-item-sync",
      "PodDisruptionBudget/rel-item-sync",
      "PodDisruptionBudget/rel-item-sync-worker",
      "PodMonitor/rel-item-sync-worker",
      "PrometheusRule/rel-item-sync",
      "Secret/rel-item-sync",
      "Secret/rel-item-sync-migrate",
      "Service/rel-item-sync",
      "ServiceMonitor/rel-item-sync",
    ]);
  });

  test("the worker runs `item-sync worker` with its own replica count and no bearer-token secrets", () => {
    const worker = one(objects, "Deployment", "rel-item-sync-worker");
    expect(worker.spec?.replicas).toBe(4);
    expect(one(objects, "Deployment", "rel-item-sync").spec?.replicas).toBe(3);
    const c = container(worker, "worker");
    expect(c.args).toEqual(["worker"]);
    // the worker accepts no bearer tokens: it gets no API tokens nor client secret
    expect(env(c, "API_TOKENS")).toBeUndefined();
    expect(env(c, "AUTH_CLIENT_SECRET")).toBeUndefined();
    expect(env(c, "GITLAB_TOKEN")?.valueFrom?.secretKeyRef?.name).toBe("rel-item-sync");
  });

  test("the worker's health and metrics ports are serve's: http (PORT) and metrics (METRICS_PORT)", () => {
    const c = container(one(objects, "Deployment", "rel-item-sync-worker"), "worker");
    expect(c.ports).toEqual([
      { name: "http", containerPort: 8080, protocol: "TCP" },
      { name: "metrics", containerPort: 9090, protocol: "TCP" },
    ]);
    expect(env(c, "PORT")?.value).toBe("8080");
    expect(env(c, "METRICS_PORT")?.value).toBe("9090");
  });

  test("the worker's pods carry the same scrape annotations as serve's, beside their own", () => {
    const scrape = (name: string) => {
      const a = podTemplate(one(objects, "Deployment", name)).metadata.annotations ?? {};
      return [a["prometheus.io/scrape"], a["prometheus.io/port"], a["prometheus.io/path"]];
    };
    expect(scrape("rel-item-sync-worker")).toEqual(["true", "9090", "/metrics"]);
    expect(scrape("rel-item-sync-worker")).toEqual(scrape("rel-item-sync"));
    const annotations = podTemplate(one(objects, "Deployment", "rel-item-sync-worker")).metadata.annotations;
    expect(annotations?.["example.org/team"]).toBe("imrt");
  });

  test("a PodMonitor scrapes the worker pods (no Service) as the ServiceMonitor scrapes serve", () => {
    const podMonitor = one(objects, "PodMonitor", "rel-item-sync-worker");
    const serviceMonitor = one(objects, "ServiceMonitor", "rel-item-sync");
    expect(podMonitor.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(podMonitor.spec?.podMetricsEndpoints).toEqual([
      { port: "metrics", path: "/metrics", interval: "30s" },
    ]);
    expect(serviceMonitor.spec?.endpoints?.[0]?.port).toBe("metrics");
    expect(podMonitor.spec?.podMetricsEndpoints?.[0]?.interval).toBe(
      serviceMonitor.spec?.endpoints?.[0]?.interval,
    );
    expect(podMonitor.metadata.labels?.release).toBe("prometheus");
    expect(serviceMonitor.metadata.labels?.release).toBe("prometheus");
    const worker = podTemplate(one(objects, "Deployment", "rel-item-sync-worker")).metadata.labels;
    const serve = podTemplate(one(objects, "Deployment", "rel-item-sync")).metadata.labels;
    expect(selects(podMonitor.spec?.selector?.matchLabels, worker)).toBe(true);
    expect(selects(podMonitor.spec?.selector?.matchLabels, serve)).toBe(false);
  });

  test("serve stops running ingest workers when the worker Deployment does", () => {
    const c = container(one(objects, "Deployment", "rel-item-sync"), "serve");
    expect(env(c, "INGEST_ENABLED")?.value).toBe("false");
  });

  test("the worker's pods are selected by their own PDB, not by the Service", () => {
    const labels = podTemplate(one(objects, "Deployment", "rel-item-sync-worker")).metadata.labels;
    expect(
      selects(
        one(objects, "PodDisruptionBudget", "rel-item-sync-worker").spec?.selector?.matchLabels,
        labels,
      ),
    ).toBe(true);
    expect(
      selects(one(objects, "PodDisruptionBudget", "rel-item-sync").spec?.selector?.matchLabels, labels),
    ).toBe(false);
    const service = one(objects, "Service", "rel-item-sync");
    expect(selects(service.spec?.selector as Record<string, string>, labels)).toBe(false);
    expect(one(objects, "PodDisruptionBudget", "rel-item-sync").spec?.minAvailable).toBe(1);
  });

  test("every workload is hardened and outlasts the graceful shutdown", () => {
    expect(workloads(objects)).toHaveLength(3);
    for (const o of workloads(objects)) {
      expectHardened(o);
      expect(podTemplate(o).spec.terminationGracePeriodSeconds).toBeGreaterThan(25);
    }
  });

  test("secret values appear only base64-encoded in Secrets, never in plain text", () => {
    expectSecretsByReference(
      objects.filter((o) => o.kind !== "Job"),
      "rel-item-sync",
    );
    const secretValues = [
      "glpat-test-token-0123456789",
      "static-token-0123456789abcdef",
      "dashboard-token-0123456789",
      "webhook-secret-0123456789",
      "postgres://item_sync:db-password-0123@postgres:5432/imrt",
      "amqp://item_sync:amqp-password-0123@rabbitmq:5672/imrt",
      "client-secret-0123456789",
    ];
    for (const value of secretValues) expect(text).not.toContain(value);
    const secret = one(objects, "Secret", "rel-item-sync");
    expect(atob(secret.data?.GITLAB_TOKEN ?? "")).toBe("glpat-test-token-0123456789");
    expect(Object.keys(secret.data ?? {}).sort()).toEqual([...SECRET_VARIABLES].sort());
  });

  test("migration hook: a pre-install/pre-upgrade Job runs `item-sync migrate`; pods skip start-up migrations", () => {
    const job = one(objects, "Job", "rel-item-sync-migrate");
    const a = job.metadata.annotations ?? {};
    expect(a["helm.sh/hook"]?.split(",").sort()).toEqual(["pre-install", "pre-upgrade"]);
    expect(a["helm.sh/hook-delete-policy"]).toContain("before-hook-creation");
    const c = container(job, "migrate");
    expect(c.args).toEqual(["migrate"]);
    expect(podTemplate(job).spec.restartPolicy).toBe("Never");
    // only the database URL, from the hook Secret that exists before the release's own objects
    const hookSecret = one(objects, "Secret", "rel-item-sync-migrate");
    const ha = hookSecret.metadata.annotations ?? {};
    expect(ha["helm.sh/hook"]).toBe(a["helm.sh/hook"]);
    expect(Number(ha["helm.sh/hook-weight"])).toBeLessThan(Number(a["helm.sh/hook-weight"]));
    expect(env(c, "DATABASE_URL")?.valueFrom?.secretKeyRef?.name).toBe("rel-item-sync-migrate");
    expect(env(c, "DATABASE_URL")?.value).toBeUndefined();
    for (const name of SECRET_VARIABLES.filter((n) => n !== "DATABASE_URL"))
      expect(env(c, name)).toBeUndefined();
    for (const d of ["rel-item-sync", "rel-item-sync-worker"]) {
      const dep = one(objects, "Deployment", d);
      expect(env(podTemplate(dep).spec.containers[0] as Container, "DB_MIGRATE")?.value).toBe("false");
    }
  });

  test("the Ingress routes the host to the Service, with TLS", () => {
    const ingress = one(objects, "Ingress", "rel-item-sync");
    expect(ingress.spec?.rules?.[0]?.host).toBe("item-sync.example.org");
    expect(ingress.spec?.rules?.[0]?.http.paths[0]?.backend.service.name).toBe("rel-item-sync");
    expect(ingress.spec?.tls?.[0]?.secretName).toBe("item-sync-tls");
  });

  test("the Ingress routes the API, the dashboard and the webhooks only: never /metrics, /health or /openapi", () => {
    const ingress = one(objects, "Ingress", "rel-item-sync");
    type IngressPath = { path: string; pathType: string };
    const rulePaths = (ingress.spec?.rules ?? []).map((r) => r.http.paths as unknown as IngressPath[]);
    const paths = rulePaths.flatMap((list) => list.map((p) => `${p.pathType} ${p.path}`));
    expect(paths).toEqual([
      "Exact /",
      "Prefix /ui",
      "Prefix /sync",
      "Prefix /jobs",
      "Prefix /items",
      "Exact /webhooks/gitlab",
    ]);
    // what a request path reaches through it, by Kubernetes' matching rules (Prefix: whole segments)
    const routed = (path: string) =>
      (rulePaths[0] ?? []).some((p) =>
        p.pathType === "Exact"
          ? path === p.path
          : path === p.path || path.startsWith(`${p.path === "/" ? "" : p.path}/`),
      );
    for (const path of ["/", "/ui/app.js", "/sync", "/jobs/7/reset", "/items", "/webhooks/gitlab"])
      expect({ path, routed: routed(path) }).toEqual({ path, routed: true });
    for (const path of ["/metrics", "/health/ready", "/health/live", "/openapi/json", "/openapi", "/jobsx"])
      expect({ path, routed: routed(path) }).toEqual({ path, routed: false });
  });

  test("a host with its own paths (the old values shape) is refused, naming why", () => {
    const out = helm([
      "template",
      "rel",
      chart,
      "--set",
      "ingress.enabled=true",
      "--set",
      "ingress.hosts[0].host=x.example.org",
      "--set",
      "ingress.hosts[0].paths[0].path=/",
    ]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain("ingress.hosts[].paths is not read any more");
  });

  test("plain settings reach the ConfigMap; image tag, pod extras and scrape annotations apply", () => {
    const cm = one(objects, "ConfigMap", "rel-item-sync");
    expect(cm.data?.GITLAB_URL).toBe("https://gitlab.example.org");
    expect(cm.data?.AUTH_JWKS_URL).toContain("openam");
    const serve = one(objects, "Deployment", "rel-item-sync");
    const t = podTemplate(serve);
    expect(container(serve, "serve").image).toBe("registry.example.org/imrt/item-sync:1.2.3");
    expect(t.metadata.labels["example.org/cost-centre"]).toBe("imrt");
    expect(t.metadata.annotations?.["prometheus.io/path"]).toBe("/metrics");
    expect(t.metadata.annotations?.["example.org/team"]).toBe("imrt");
    expect(env(container(serve, "serve"), "TZ")?.value).toBe("Europe/Paris");
  });
});

describe("helm template with an existing Secret", () => {
  let objects: K8sObject[] = [];
  beforeAll(() => {
    objects = render([
      "-f",
      valuesAll,
      "--set",
      "secrets.existingSecret=item-sync-secrets,secrets.keys.DATABASE_URL=database-url",
    ]).objects;
  });

  test("creates no Secret and references the existing one everywhere, with custom key names", () => {
    expect(all(objects, "Secret")).toHaveLength(0);
    expectSecretsByReference(objects, "item-sync-secrets");
    for (const o of workloads(objects)) {
      const c = podTemplate(o).spec.containers[0] as Container;
      expect(env(c, "DATABASE_URL")?.valueFrom?.secretKeyRef).toEqual({
        name: "item-sync-secrets",
        key: "database-url",
      });
    }
    const serve = container(one(objects, "Deployment", "rel-item-sync"), "serve");
    expect(env(serve, "WEBHOOK_SECRET")?.valueFrom?.secretKeyRef?.optional).toBe(true);
  });

  test("pods carry a config checksum but no secret checksum", () => {
    const annotations = podTemplate(one(objects, "Deployment", "rel-item-sync")).metadata.annotations ?? {};
    expect(annotations["checksum/config"]).toBeDefined();
    expect(annotations["checksum/secret"]).toBeUndefined();
  });
});

describe("chart values", () => {
  test("a config change changes the pods' checksum (pods roll)", () => {
    const checksum = (extra: string[]) =>
      podTemplate(one(render(extra).objects, "Deployment", "rel-item-sync")).metadata.annotations?.[
        "checksum/config"
      ];
    expect(checksum(["--set", "config.LOG_LEVEL=warn"])).not.toBe(checksum([]));
  });

  test("image.digest pins every container to repository@digest, whatever the tag", () => {
    const digest = `sha256:${"ab12".repeat(16)}`;
    const { objects } = render([
      "--set",
      `image.digest=${digest},image.tag=9.9.9,migrations.mode=hook,worker.enabled=true`,
    ]);
    const images = workloads(objects).flatMap((o) => podTemplate(o).spec.containers.map((c) => c.image));
    expect(images).toHaveLength(3);
    for (const image of images) expect(image).toBe(`registry.example.org/imrt/item-sync@${digest}`);
    expect(lint(["--set", "image.digest=latest"]).code).not.toBe(0);
  });

  test("migrations.mode=none: no Job, no start-up migration", () => {
    const { objects } = render(["--set", "migrations.mode=none"]);
    expect(all(objects, "Job")).toHaveLength(0);
    const c = container(one(objects, "Deployment", "rel-item-sync"), "serve");
    expect(env(c, "DB_MIGRATE")?.value).toBe("false");
  });

  test("worker.enabled alone: the worker is probed over HTTP like serve, with serve's timings", () => {
    const { objects } = render(["--set", "worker.enabled=true"]);
    const worker = container(one(objects, "Deployment", "rel-item-sync-worker"), "worker");
    const serve = container(one(objects, "Deployment", "rel-item-sync"), "serve");
    expect(worker.livenessProbe?.httpGet).toEqual({ path: "/health/live", port: "metrics" });
    expect(worker.readinessProbe?.httpGet).toEqual({ path: "/health/ready", port: "metrics" });
    expect(worker.startupProbe?.httpGet).toEqual({ path: "/health/live", port: "metrics" });
    expect(worker.livenessProbe).toEqual(serve.livenessProbe);
    expect(worker.readinessProbe).toEqual(serve.readinessProbe);
    expect(worker.startupProbe).toEqual(serve.startupProbe);
    expect(worker.ports).toEqual([
      { name: "http", containerPort: 8080, protocol: "TCP" },
      { name: "metrics", containerPort: 9090, protocol: "TCP" },
    ]);
  });

  test("the worker's probes and port follow the values", () => {
    const { objects } = render([
      "--set",
      "worker.enabled=true,worker.startupProbe=null,serve.containerPort=8081,metrics.port=9464",
      "--set-json",
      'worker.livenessProbe={"httpGet":null,"exec":{"command":["true"]},"periodSeconds":30}',
    ]);
    const c = container(one(objects, "Deployment", "rel-item-sync-worker"), "worker");
    expect(c.startupProbe).toBeUndefined();
    // Helm merges an override into the default: the other handler replaces httpGet, timings stay
    expect(c.livenessProbe).toEqual({
      exec: { command: ["true"] },
      periodSeconds: 30,
      timeoutSeconds: 3,
      failureThreshold: 3,
    });
    expect(c.readinessProbe?.httpGet).toEqual({ path: "/health/ready", port: "metrics" });
    expect(c.ports?.map((p) => p.containerPort)).toEqual([8081, 9464]);
    expect(env(c, "PORT")?.value).toBe("8081");
    expect(env(c, "METRICS_PORT")?.value).toBe("9464");
    const annotations = podTemplate(one(objects, "Deployment", "rel-item-sync-worker")).metadata.annotations;
    expect(annotations?.["prometheus.io/port"]).toBe("9464");
  });

  test("metrics.podAnnotations=false: neither serve nor worker pods carry scrape annotations", () => {
    const { objects } = render(["--set", "worker.enabled=true,metrics.podAnnotations=false"]);
    for (const name of ["rel-item-sync", "rel-item-sync-worker"]) {
      const annotations = podTemplate(one(objects, "Deployment", name)).metadata.annotations ?? {};
      expect(Object.keys(annotations).filter((k) => k.startsWith("prometheus.io/"))).toEqual([]);
      expect(annotations["checksum/config"]).toBeDefined();
    }
  });

  test.each([
    [false, false, []],
    [true, false, ["ServiceMonitor/rel-item-sync"]],
    [false, true, []],
    [true, true, ["PodMonitor/rel-item-sync-worker", "ServiceMonitor/rel-item-sync"]],
  ])("serviceMonitor.enabled=%p, worker.enabled=%p renders monitors %p", (monitor, worker, expected) => {
    const { objects } = render([
      "--set",
      `metrics.serviceMonitor.enabled=${monitor},worker.enabled=${worker}`,
    ]);
    const monitors = objects
      .filter((o) => o.kind === "ServiceMonitor" || o.kind === "PodMonitor")
      .map((o) => `${o.kind}/${o.metadata.name}`)
      .sort();
    expect(monitors).toEqual(expected);
  });

  describe("config.WEBHOOK_ENABLED=false", () => {
    // A WEBHOOK_SECRET too short for the chart's check when the receiver is on: ignored when it is off.
    const off = [
      "-f",
      valuesAll,
      "--set",
      "config.WEBHOOK_ENABLED=false,secrets.values.WEBHOOK_SECRET=short",
    ];

    test("no WEBHOOK_SECRET is required, generated, stored or passed to serve and worker", () => {
      const { objects } = render(off);
      const secret = one(objects, "Secret", "rel-item-sync");
      expect(Object.keys(secret.data ?? {})).not.toContain("WEBHOOK_SECRET");
      for (const [name, c] of [
        ["rel-item-sync", "serve"],
        ["rel-item-sync-worker", "worker"],
      ] as const) {
        expect(env(container(one(objects, "Deployment", name), c), "WEBHOOK_SECRET")).toBeUndefined();
      }
      // "false" as a string (--set-string, a values file's "false") and the binary's other spellings
      for (const value of ["false", "0", "No"]) {
        const r = render(["--set-string", `config.WEBHOOK_ENABLED=${value}`]).objects;
        expect(Object.keys(one(r, "Secret", "rel-item-sync").data ?? {})).not.toContain("WEBHOOK_SECRET");
      }
      const existing = render([...off, "--set", "secrets.existingSecret=item-sync-secrets"]).objects;
      expect(
        env(container(one(existing, "Deployment", "rel-item-sync"), "serve"), "WEBHOOK_SECRET"),
      ).toBeUndefined();
    });

    test("serve's and the worker's rendered environment passes the binary's configuration checks", () => {
      const { objects } = render(off);
      const envOf = (name: string, c: string) =>
        containerEnv(container(one(objects, "Deployment", name), c), objects as unknown as PodObject[]);
      const serve = loadConfig(envOf("rel-item-sync", "serve"), NEEDS_ALL);
      expect(serve.gitlab.webhookEnabled).toBe(false);
      expect(serve.gitlab.webhookSecret).toBe("");
      expect(serve.auth.apiTokens.map((t) => t.role)).toEqual(["admin", "read", "operate"]);
      const worker = loadConfig(envOf("rel-item-sync-worker", "worker"), {
        gitlab: true,
        auth: false,
        webhook: true,
      });
      expect(worker.gitlab.webhookEnabled).toBe(false);
      // with the receiver on, the same values give serve the chart's secret
      const on = render(["-f", valuesAll]).objects;
      const serveOn = containerEnv(
        container(one(on, "Deployment", "rel-item-sync"), "serve"),
        on as unknown as PodObject[],
      );
      expect(loadConfig(serveOn, NEEDS_ALL).gitlab.webhookSecret).toBe("webhook-secret-0123456789");
    });
  });

  test("serve.ingestEnabled overrides the automatic choice", () => {
    const { objects } = render(["--set", "worker.enabled=true,serve.ingestEnabled=true"]);
    expect(
      env(container(one(objects, "Deployment", "rel-item-sync"), "serve"), "INGEST_ENABLED")?.value,
    ).toBe("true");
  });

  // Refused by the templates' checks (secrets in config, settings the chart owns) or by
  // values.schema.json (types, ranges, enums); each message names the offending value.
  test.each([
    [["--set", "config.GITLAB_TOKEN=glpat-oops"], /config\.GITLAB_TOKEN is a secret/],
    [["--set", "config.DATABASE_URL=postgres://u:p@h/db"], /config\.DATABASE_URL is a secret/],
    [["--set", "config.PORT=9090"], /config\.PORT is set by the chart/],
    [["--set", "config.METRICS_PORT=9464"], /config\.METRICS_PORT is set by the chart/],
    [
      ["--set", "secrets.values.WEBHOOK_SECRET=short-secret"],
      /WEBHOOK_SECRET must be at least 24 characters/,
    ],
    [["--set", "secrets.values.API_TOKENS=short-token:read"], /API_TOKENS: each comma-separated entry/],
    [["--set", "secrets.values.API_TOKENS=has a space-0123456789:read"], /no spaces/],
    [
      ["--set", "config.WEBHOOK_URL=http://item-sync.example.org/webhooks/gitlab"],
      /config\.WEBHOOK_URL must be an https URL/,
    ],
    [["--set-json", "networkPolicy.httpFrom=[{}]"], /networkPolicy/],
    [
      ["--set", "secrets.values.API_TOKENS=long-enough-token-0123:root"],
      /API_TOKENS: .*ROLE read, operate or admin/,
    ],
    [["--set", "config.WEBHOOK_ENABLED=maybe"], /config\/WEBHOOK_ENABLED/],
    [["--set", "config.ALLOW_INSECURE_URLS=sometimes"], /config\/ALLOW_INSECURE_URLS/],
    [["--set", "metrics.port=8080"], /metrics\.port must differ from serve\.containerPort/],
    [["--set", "metrics.port=0"], /metrics/],
    [["--set", "terminationGracePeriodSeconds=20"], /terminationGracePeriodSeconds/],
    [["--set", "migrations.mode=later"], /migrations\/mode|migrations\.mode/],
    [["--set", "serve.replicaCount=0"], /serve\/replicaCount|serve\.replicaCount/],
    [["--set", "serve.ingestEnabled=maybe"], /serve\/ingestEnabled/],
  ])("refuses %p", (args, message) => {
    const out = helm(["template", "rel", chart, ...args]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(message);
  });

  test("the template checks hold without the schema", () => {
    for (const [args, message] of [
      ["terminationGracePeriodSeconds=20", "terminationGracePeriodSeconds must be above 25"],
      ["migrations.mode=later", "migrations.mode must be startup, hook or none"],
      ["serve.replicaCount=0", "serve.replicaCount must be at least 1"],
    ] as const) {
      const out = helm(["template", "rel", chart, "--skip-schema-validation", "--set", args]);
      expect(out.code).not.toBe(0);
      expect(out.stderr).toContain(message);
    }
  });
});

describe("values.schema.json: typos and empty required values refused at render time", () => {
  test("the default values alone render nothing, naming every value item-sync cannot start without", () => {
    const out = helm(["template", "rel", chart, "--namespace", "imrt"], { bare: true });
    expect(out.code).not.toBe(0);
    for (const path of [
      "/config/GITLAB_URL",
      "/config/GITLAB_GROUP",
      "/config/WEBHOOK_URL",
      "/secrets/values/GITLAB_TOKEN",
      "/secrets/values/DATABASE_URL",
      "/secrets/values/AMQP_URL",
      "/secrets/values/API_TOKENS",
    ]) {
      expect(out.stderr).toContain(`'${path}'`);
    }
    const lint = helm(["lint", "--strict", chart], { bare: true });
    expect(lint.code).not.toBe(0);
  });

  test.each([
    [["--set", "workers.enabled=true"], "additional properties 'workers' not allowed"],
    [["--set", "worker.enable=true"], "additional properties 'enable' not allowed"],
    [["--set", "serve.replicas=3"], "additional properties 'replicas' not allowed"],
    [["--set", "metrics.serviceMonitor.enable=true"], "additional properties 'enable' not allowed"],
    [["--set", "networkPolicy.egress.databse.enabled=false"], "additional properties 'databse' not allowed"],
    [["--set", "secrets.values.GITLAB_TOKN=glpat-x"], "GITLAB_TOKN"],
    [["--set", "config.GITLAB_GRUOP=imrt/items"], "GITLAB_GRUOP"],
    [["--set", "config.GITLAB_URL="], "'/config/GITLAB_URL'"],
    [["--set", "secrets.values.DATABASE_URL="], "'/secrets/values/DATABASE_URL'"],
  ])("refuses %p", (args, message) => {
    const out = helm(["template", "rel", chart, ...args]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain(message);
  });

  test("an existing Secret needs no secret values; an OAuth2 provider stands in for API_TOKENS", () => {
    const secretsEmpty = [
      "secrets.values.GITLAB_TOKEN=",
      "secrets.values.DATABASE_URL=",
      "secrets.values.AMQP_URL=",
      "secrets.values.API_TOKENS=",
    ].join(",");
    expect(helm(["template", "rel", chart, "--set", `${secretsEmpty},secrets.existingSecret=s`]).code).toBe(
      0,
    );
    const oauth = helm([
      "template",
      "rel",
      chart,
      "--set",
      "secrets.values.API_TOKENS=,config.AUTH_JWKS_URL=https://sso.example.org/jwks,config.AUTH_ISSUER=https://sso.example.org,config.AUTH_AUDIENCE=item-sync",
    ]);
    expect(oauth.stderr).toBe("");
    expect(oauth.code).toBe(0);
  });

  test("config takes exactly the variables item-sync reads (src/config/variables.ts)", async () => {
    const schema = (await Bun.file(join(chart, "values.schema.json")).json()) as {
      properties: { config: { propertyNames: { enum: string[] } } };
    };
    expect([...schema.properties.config.propertyNames.enum].sort()).toEqual(
      CONFIG_VARIABLES.map((v) => v.name).sort(),
    );
  });
});

describe("docs/kubernetes.md, run as written", () => {
  const doc = () => Bun.file(join(root, "docs/kubernetes.md")).text();
  /** The body of the first fenced block after `marker`. */
  const blockAfter = (text: string, marker: string, lang: string) => {
    const from = text.indexOf(marker);
    expect(from).toBeGreaterThanOrEqual(0);
    const m = new RegExp(`\`\`\`${lang}\n([\\s\\S]*?)\`\`\``).exec(text.slice(from));
    if (!m?.[1]) throw new Error(`no ${lang} block after ${marker}`);
    return m[1];
  };
  const bash = (script: string, cwd: string, path = process.env.PATH ?? "") =>
    Bun.spawnSync(["bash", "-euo", "pipefail", "-c", script], {
      cwd,
      env: {
        ...process.env,
        PATH: path,
        HELM_CACHE_HOME: join(root, ".tmp/helm/home/cache"),
        HELM_CONFIG_HOME: join(root, ".tmp/helm/home/config"),
        HELM_DATA_HOME: join(root, ".tmp/helm/home/data"),
      },
    });

  test("its helm template renders its own my-values.yaml, and the minimal values, without a cluster", async () => {
    const text = await doc();
    const values = blockAfter(text, "`my-values.yaml` (every value", "yaml");
    const command = blockAfter(text, "Before installing, render it", "sh").trim();
    expect(command).toStartWith("helm template ");
    const dir = mkdtempSync(join(tmpdir(), "item-sync-k8s-doc-"));
    try {
      await Bun.write(join(dir, "my-values.yaml"), values);
      symlinkSync(join(root, "charts"), join(dir, "charts"));
      const helmDir = join(helmPath, "..");
      for (const script of [
        command,
        command.replace("my-values.yaml", "charts/examples/minimal-values.yaml"),
      ]) {
        const out = bash(script, dir, `${helmDir}:${process.env.PATH ?? ""}`);
        expect({ script, stderr: out.stderr.toString() }).toEqual({ script, stderr: "" });
        expect(out.exitCode).toBe(0);
        const rendered = await Bun.file(join(dir, "item-sync.rendered.yaml")).text();
        expect(rendered).toContain("kind: Deployment");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("its token command gives a token that may launch a sync, from its own TOKEN:ROLE example", async () => {
    const text = await doc();
    const line = text.split("\n").find((l) => l.startsWith("TOKEN=$(kubectl"));
    if (!line) throw new Error("no TOKEN=$(kubectl … line");
    // the example of the Secrets section, with fixed tokens for $(openssl rand -hex 24)
    const example =
      /`API_TOKENS="(\$\(openssl rand -hex 24\):read,\$\(openssl rand -hex 24\):operate)"`/.exec(text);
    expect(example).not.toBeNull();
    const reader = "r".repeat(48);
    const operator = "o".repeat(48);
    const apiTokens = `${reader}:read,${operator}:operate`;
    const dir = mkdtempSync(join(tmpdir(), "item-sync-k8s-token-"));
    try {
      // kubectl as the cluster would answer: the Secret's data, base64
      const kubectl = join(dir, "kubectl");
      await Bun.write(kubectl, `#!/bin/sh\nprintf %s '${Buffer.from(apiTokens).toString("base64")}'\n`);
      chmodSync(kubectl, 0o755);
      const out = bash(`${line}\nprintf %s "$TOKEN"`, dir, `${dir}:${process.env.PATH ?? ""}`);
      expect(out.exitCode).toBe(0);
      expect(out.stdout.toString()).toBe(operator);
      // a bare token (admin) first is taken as it is
      await Bun.write(
        kubectl,
        `#!/bin/sh\nprintf %s '${Buffer.from(`${operator},${reader}:read`).toString("base64")}'\n`,
      );
      expect(
        bash(`${line}\nprintf %s "$TOKEN"`, dir, `${dir}:${process.env.PATH ?? ""}`).stdout.toString(),
      ).toBe(operator);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("Dockerfile", () => {
  const dockerfile = Bun.file(join(root, "Dockerfile"));
  const dockerignore = Bun.file(join(root, ".dockerignore"));

  /** Instructions with continuation lines joined and comments dropped. */
  async function instructions(): Promise<{ op: string; args: string }[]> {
    const text = (await dockerfile.text()).replace(/\\\n/g, " ");
    return text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"))
      .map((l) => {
        const [op = "", ...rest] = l.split(/\s+/);
        return { op: op.toUpperCase(), args: rest.join(" ") };
      });
  }

  test("is multi-stage: a bun builder with the frozen lockfile, then a runtime holding the binary", async () => {
    const ins = await instructions();
    const froms = ins.filter((i) => i.op === "FROM");
    expect(froms).toHaveLength(2);
    // the bases are build arguments (scripts/image.sh passes local ones), upstream by default
    expect(froms[0]?.args).toMatch(/^\$\{BUN_IMAGE\} AS builder$/i);
    expect(froms[1]?.args).toMatch(/^\$\{RUNTIME_IMAGE\} AS runtime$/i);
    const arg = (name: string) => ins.find((i) => i.op === "ARG" && i.args.startsWith(`${name}=`))?.args;
    expect(arg("BUN_VERSION")).toBe("BUN_VERSION=1.4.4");
    expect(arg("BUN_IMAGE")).toBe(`BUN_IMAGE=oven/bun:$\{BUN_VERSION}`);
    expect(arg("RUNTIME_IMAGE")).toBe("RUNTIME_IMAGE=debian:bookworm-slim");
    const runs = ins.filter((i) => i.op === "RUN").map((i) => i.args);
    expect(runs.some((r) => r.includes("bun install --frozen-lockfile"))).toBe(true);
    expect(runs.some((r) => r.includes("bun run build"))).toBe(true);
    expect(runs.some((r) => r.includes("ca-certificates"))).toBe(true);
    expect(runs.some((r) => /\b(curl|wget)\b/.test(r))).toBe(false);
    const runtimeStart = ins.indexOf(froms[1] as { op: string; args: string });
    const runtime = ins.slice(runtimeStart);
    const copies = runtime.filter((i) => i.op === "COPY");
    expect(copies).toHaveLength(1);
    expect(copies[0]?.args).toMatch(/^--from=builder \/src\/dist\/item-sync \/app\/item-sync$/);
  });

  test("runs as a numeric non-root user, exposes 8080, health-checks with `item-sync health`, runs serve", async () => {
    const ins = await instructions();
    const runtime = ins.slice(ins.map((i) => i.op).lastIndexOf("FROM"));
    const user = runtime.filter((i) => i.op === "USER").at(-1)?.args ?? "";
    expect(user).toMatch(/^[1-9][0-9]*(:[0-9]+)?$/);
    expect(runtime.find((i) => i.op === "EXPOSE")?.args).toBe("8080");
    const health = runtime.find((i) => i.op === "HEALTHCHECK")?.args ?? "";
    expect(health).toMatch(/CMD \["\/app\/item-sync", "health"\]$/);
    expect(runtime.find((i) => i.op === "ENTRYPOINT")?.args).toBe('["/app/item-sync"]');
    expect(runtime.find((i) => i.op === "CMD")?.args).toBe('["serve"]');
  });

  test(".dockerignore keeps local artefacts out and what the build needs in", async () => {
    const patterns = (await dockerignore.text())
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    for (const p of ["node_modules", ".git", "dist", ".env", ".tmp"]) expect(patterns).toContain(p);
    for (const needed of [
      "src",
      "scripts",
      "drizzle",
      "package.json",
      "bun.lock",
      "bunfig.toml",
      "tsconfig.json",
    ]) {
      expect(patterns).not.toContain(needed);
    }
  });
});
