/**
 * A sync of one project, as the replaced service's `POST /sync/{projectId}` was: no execution,
 * just the messages a scan would publish for it — monitor-item when our hook is missing (or a
 * legacy one is left), update-item always — once GitLab confirms the project is in the group.
 * Shared by the API and `item-sync sync --project`.
 */
import type { ItemMessageType } from "../queue/messages.ts";

export interface ProjectSyncGitlab {
  readProject(
    projectId: number,
  ): Promise<{ project: { path: string }; membership: "member" | "outside" } | null>;
  isMonitored(projectId: number): Promise<boolean>;
}

export interface ProjectSyncResult {
  projectId: number;
  projectPath: string;
  /** What was published, confirmed by the broker, in order. */
  published: ItemMessageType[];
}

/** Null when GitLab does not place the project in the group (or it does not exist). */
export async function syncOneProject(
  deps: {
    gitlab: ProjectSyncGitlab;
    publish(type: ItemMessageType, project: { projectId: number; projectPath: string }): Promise<void>;
  },
  projectId: number,
): Promise<ProjectSyncResult | null> {
  const reading = await deps.gitlab.readProject(projectId);
  if (reading?.membership !== "member") return null;
  const project = { projectId, projectPath: reading.project.path };
  const published: ItemMessageType[] = [];
  if (!(await deps.gitlab.isMonitored(projectId))) {
    await deps.publish("monitor-item", project);
    published.push("monitor-item");
  }
  await deps.publish("update-item", project);
  published.push("update-item");
  return { ...project, published };
}
