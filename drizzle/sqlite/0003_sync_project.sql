-- item-sync's own item/item_log give way to the IMRT item tables (created by
-- src/items/imrt-schema.ts, not by drizzle): our per-project facts move to sync_project and our
-- event log to sync_item_event, every row kept.
ALTER TABLE `item` RENAME TO `sync_project`;--> statement-breakpoint
DROP INDEX `item_project_path_idx`;--> statement-breakpoint
CREATE INDEX `sync_project_path_idx` ON `sync_project` (`project_path`);--> statement-breakpoint
ALTER TABLE `sync_project` RENAME COLUMN `current_commit_hash` TO `head_commit_hash`;--> statement-breakpoint
ALTER TABLE `sync_project` RENAME COLUMN `current_commit_date` TO `head_commit_date`;--> statement-breakpoint
ALTER TABLE `sync_project` RENAME COLUMN `item_json` TO `head_item_json`;--> statement-breakpoint
ALTER TABLE `sync_project` ADD `hook_state` text;--> statement-breakpoint
ALTER TABLE `sync_project` ADD `hook_state_since` integer;--> statement-breakpoint
ALTER TABLE `sync_project` ADD `ingest_state` text;--> statement-breakpoint
ALTER TABLE `sync_project` ADD `ingest_problem` text;--> statement-breakpoint
ALTER TABLE `sync_project` ADD `ingested_at` integer;--> statement-breakpoint
ALTER TABLE `sync_project` ADD `ingest_message_id` text;--> statement-breakpoint
ALTER TABLE `sync_project` ADD `last_push_at` integer;--> statement-breakpoint
ALTER TABLE `sync_project` ADD `last_push_sha` text;--> statement-breakpoint
ALTER TABLE `sync_project` ADD `validation_pending` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `item_log` RENAME TO `sync_item_event`;--> statement-breakpoint
DROP INDEX `item_log_project_idx`;--> statement-breakpoint
CREATE INDEX `sync_item_event_project_idx` ON `sync_item_event` (`project_id`,`id`);
