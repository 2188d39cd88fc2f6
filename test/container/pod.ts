/**
 * Runs the chart's rendered pods with podman: renders charts/item-sync with real helm, then turns
 * one pod template (its container's args, env from the rendered ConfigMap and Secret, user,
 * read-only root filesystem, emptyDir mounts as tmpfs, capabilities) into a `podman run` command
 * on the host network. Anything the translation does not understand fails loudly, so a chart
 * change that a real pod would trip over trips this test too.
 */
import { join } from "node:path";

const root = join(import.meta.dir, "../..");
export const CHART = join(root, "charts/item-sync");

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}
export interface Probe {
  httpGet?: { path: string; port: string | number };
}
export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  args?: string[];
  command?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
}
export interface PodSpec {
  containers: Container[];
  initContainers?: unknown[];
  securityContext?: SecurityContext & { fsGroup?: number };
  terminationGracePeriodSeconds?: number;
  volumes?: { name: string; emptyDir?: { sizeLimit?: string; medium?: string } }[];
}
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: { template?: { spec: PodSpec } } & Record<string, unknown>;
}

export function helmBinary(): string {
  const out = Bun.spawnSync(["bash", join(root, "scripts/helm.sh")]);
  if (out.exitCode !== 0) throw new Error(`scripts/helm.sh failed: ${out.stderr}`);
  return out.stdout.toString().trim();
}

/**
 * `helm template` with the given values (written to a file in `dir`, as a user's values file
 * would be; none when null) and extra helm arguments.
 */
export async function renderChart(
  values: unknown,
  dir: string | null,
  extra: string[] = [],
): Promise<K8sObject[]> {
  // what item-sync cannot start without (the chart's schema refuses a rendering without it)
  const valueArgs: string[] = ["-f", join(root, "charts/examples/minimal-values.yaml")];
  if (values !== null && dir !== null) {
    const file = join(dir, "values.json");
    await Bun.write(file, JSON.stringify(values));
    valueArgs.push("-f", file);
  }
  const proc = Bun.spawnSync(
    [helmBinary(), "template", "rel", CHART, "--namespace", "imrt", ...valueArgs, ...extra],
    {
      env: {
        ...process.env,
        HELM_CACHE_HOME: join(root, ".tmp/helm/home/cache"),
        HELM_CONFIG_HOME: join(root, ".tmp/helm/home/config"),
        HELM_DATA_HOME: join(root, ".tmp/helm/home/data"),
      },
    },
  );
  if (proc.exitCode !== 0) throw new Error(`helm template failed: ${proc.stderr}`);
  const docs = Bun.YAML.parse(proc.stdout.toString()) as unknown;
  return ((Array.isArray(docs) ? docs : [docs]) as (K8sObject | null)[]).filter(
    (d): d is K8sObject => d != null,
  );
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${found.length}`);
  return found[0] as K8sObject;
}

export function podSpec(o: K8sObject): PodSpec {
  const spec = o.spec?.template?.spec;
  if (!spec) throw new Error(`${o.kind} ${o.metadata.name} has no pod template`);
  return spec;
}

/** The environment the kubelet would give the container: envFrom first, then env (which wins). */
export function containerEnv(c: Container, objects: K8sObject[]): Record<string, string> {
  const env: Record<string, string> = {};
  const secretData = (name: string): Record<string, string> => {
    const s = find(objects, "Secret", name);
    const data: Record<string, string> = { ...(s.stringData ?? {}) };
    for (const [k, v] of Object.entries(s.data ?? {})) data[k] = Buffer.from(v, "base64").toString();
    return data;
  };
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, find(objects, "ConfigMap", from.configMapRef.name).data ?? {});
    else if (from.secretRef) Object.assign(env, secretData(from.secretRef.name));
    else throw new Error(`envFrom entry not understood: ${JSON.stringify(from)}`);
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) {
      const ref = e.valueFrom.secretKeyRef;
      const value = secretData(ref.name)[ref.key];
      if (value !== undefined) env[e.name] = value;
      else if (!ref.optional) throw new Error(`${c.name}: Secret ${ref.name} has no key ${ref.key}`);
    } else if (e.valueFrom) throw new Error(`env ${e.name}: valueFrom not understood`);
    else env[e.name] = "";
  }
  return env;
}

/** "64Mi" → podman's tmpfs size. */
function tmpfsSize(quantity: string | undefined): string {
  if (!quantity) return "";
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity);
  if (!m) throw new Error(`emptyDir sizeLimit not understood: ${quantity}`);
  const unit = { Ki: "k", Mi: "m", Gi: "g", "": "" }[m[2] ?? ""];
  return `,size=${m[1]}${unit}`;
}

/** `podman run` arguments (after `run`) for the only container of a rendered pod template. */
export function podmanRunArgs(o: K8sObject, objects: K8sObject[], name: string): string[] {
  const spec = podSpec(o);
  if (spec.containers.length !== 1 || (spec.initContainers?.length ?? 0) > 0) {
    throw new Error(`${o.metadata.name}: translation handles one container and no init containers`);
  }
  const c = spec.containers[0] as Container;
  if (c.command) throw new Error(`${c.name}: command overrides the image's entrypoint`);
  const sc = { ...(spec.securityContext ?? {}), ...(c.securityContext ?? {}) };
  const args = ["--name", name, "--network", "host", "--pull", "never", "--read-only-tmpfs=false"];
  if (sc.runAsUser !== undefined) args.push("--user", `${sc.runAsUser}:${sc.runAsGroup ?? sc.runAsUser}`);
  if (sc.readOnlyRootFilesystem) args.push("--read-only");
  if (sc.allowPrivilegeEscalation === false) args.push("--security-opt", "no-new-privileges");
  if (sc.privileged) args.push("--privileged");
  for (const cap of sc.capabilities?.drop ?? []) args.push("--cap-drop", cap);
  for (const cap of sc.capabilities?.add ?? []) args.push("--cap-add", cap);
  if (spec.securityContext?.fsGroup !== undefined)
    args.push("--group-add", String(spec.securityContext.fsGroup));
  for (const mount of c.volumeMounts ?? []) {
    const volume = spec.volumes?.find((v) => v.name === mount.name);
    if (!volume?.emptyDir) throw new Error(`${c.name}: volume ${mount.name} is not an emptyDir`);
    // writable by the pod's user, as an emptyDir is (podman 4.3's tmpfs takes no uid/gid option)
    args.push("--tmpfs", `${mount.mountPath}:rw,mode=1777${tmpfsSize(volume.emptyDir.sizeLimit)}`);
  }
  for (const [k, v] of Object.entries(containerEnv(c, objects))) args.push("--env", `${k}=${v}`);
  // the image the chart names, never pulled (pullPolicy Never: it was built here)
  args.push(c.image, ...(c.args ?? []));
  return args;
}

/** The port number a probe targets (a named port resolves through the container's ports). */
export function probePort(c: Container, probe: Probe): number {
  const port = probe.httpGet?.port;
  if (typeof port === "number") return port;
  const named = c.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`${c.name}: probe port ${String(port)} is not a container port`);
  return named.containerPort;
}
