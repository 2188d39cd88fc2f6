-- A project's messages that failed for good (sync_dead_letter) and GitLab's head as update-item last
-- read it (sync_project.seen_head_*): what GET /items/{projectId}'s status block and ?stale=true show.
CREATE TABLE `sync_dead_letter` (
	`project_id` integer NOT NULL,
	`message_type` text NOT NULL,
	`queue` text NOT NULL,
	`message_id` text,
	`reason` text NOT NULL,
	`attempts` integer NOT NULL,
	`dead_lettered_by` text NOT NULL,
	`dead_lettered_at` integer NOT NULL,
	PRIMARY KEY(`project_id`, `message_type`)
);
--> statement-breakpoint
ALTER TABLE `sync_project` ADD `seen_head_hash` text;--> statement-breakpoint
ALTER TABLE `sync_project` ADD `seen_head_date` integer;--> statement-breakpoint
ALTER TABLE `sync_project` ADD `seen_head_at` integer;