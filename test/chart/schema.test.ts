/**
 * Every object the chart renders validates against the Kubernetes API schemas, with the
 * kubernetes-models packages (the OpenAPI schemas of Kubernetes 1.34's API, resource.k8s.io/v1
 * included) and @kubernetes-models/prometheus-operator for ServiceMonitor, PodMonitor and
 * PrometheusRule: default values, every option on (values-all.yaml), and an existing Secret.
 * An object of an API the validators do not know fails the test rather than going unchecked.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type K8sObject, renderChart } from "../container/pod.ts";

const valuesAll = join(import.meta.dir, "values-all.yaml");

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: unknown) => Validatable;

/** The model class of an object's apiVersion and kind. */
async function modelOf(o: K8sObject): Promise<ModelClass> {
  const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : ["", o.apiVersion];
  const module =
    group === "monitoring.coreos.com"
      ? await import(`@kubernetes-models/prometheus-operator/${group}/${version}`)
      : await import(group === "" ? `kubernetes-models/${version}` : `kubernetes-models/${group}/${version}`);
  const model = (module as Record<string, ModelClass | undefined>)[o.kind];
  if (!model) throw new Error(`no schema for ${o.apiVersion} ${o.kind}`);
  return model;
}

async function problems(objects: K8sObject[]): Promise<string[]> {
  const found: string[] = [];
  for (const o of objects) {
    try {
      new (await modelOf(o))(o).validate();
    } catch (err) {
      found.push(`${o.kind} ${o.metadata.name}: ${(err as Error).message}`);
    }
  }
  return found;
}

const RENDERINGS: Record<string, string[]> = {
  "default values": [],
  "every option on (values-all.yaml)": ["-f", valuesAll],
  "an existing Secret": [
    "-f",
    valuesAll,
    "--set",
    "secrets.existingSecret=item-sync-secrets,secrets.keys.DATABASE_URL=database-url",
  ],
};

describe("rendered manifests validate against the Kubernetes API schemas", () => {
  for (const [what, args] of Object.entries(RENDERINGS)) {
    test(what, async () => {
      const objects = await renderChart(null, null, args);
      expect(objects.length).toBeGreaterThan(3);
      expect(await problems(objects)).toEqual([]);
    });
  }

  test("the validator catches a broken object (a probe without a port, replicas as a string)", async () => {
    const [deployment] = (await renderChart(null, null, [])).filter((o) => o.kind === "Deployment");
    const broken = structuredClone(deployment) as unknown as {
      spec: {
        replicas: unknown;
        template: { spec: { containers: { readinessProbe: { httpGet: object } }[] } };
      };
    };
    broken.spec.replicas = "2";
    const c = broken.spec.template.spec.containers[0];
    if (c) c.readinessProbe.httpGet = { path: "/health/ready" };
    const found = await problems([broken as unknown as K8sObject]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/replicas must be integer|must have required property 'port'/);
  });
});
