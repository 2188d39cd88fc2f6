-- item-sync's own item/item_log give way to the IMRT item tables (created in IMRT_SCHEMA by
-- src/items/imrt-schema.ts, not by drizzle): our per-project facts move to sync_project and our
-- event log to sync_item_event, every row kept. Constraint, index and sequence names are renamed
-- too: Postgres keeps them per schema, and the IMRT `item` table needs `item_pkey` when both
-- schemas are the same.
ALTER TABLE "item" RENAME TO "sync_project";--> statement-breakpoint
ALTER TABLE "sync_project" RENAME CONSTRAINT "item_pkey" TO "sync_project_pkey";--> statement-breakpoint
ALTER INDEX "item_project_path_idx" RENAME TO "sync_project_path_idx";--> statement-breakpoint
ALTER TABLE "sync_project" RENAME COLUMN "current_commit_hash" TO "head_commit_hash";--> statement-breakpoint
ALTER TABLE "sync_project" RENAME COLUMN "current_commit_date" TO "head_commit_date";--> statement-breakpoint
ALTER TABLE "sync_project" RENAME COLUMN "item_json" TO "head_item_json";--> statement-breakpoint
ALTER TABLE "sync_project" ADD COLUMN "hook_state" varchar(30);--> statement-breakpoint
ALTER TABLE "sync_project" ADD COLUMN "hook_state_since" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "sync_project" ADD COLUMN "ingest_state" varchar(20);--> statement-breakpoint
ALTER TABLE "sync_project" ADD COLUMN "ingest_problem" varchar(2000);--> statement-breakpoint
ALTER TABLE "sync_project" ADD COLUMN "ingested_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "sync_project" ADD COLUMN "ingest_message_id" varchar(200);--> statement-breakpoint
ALTER TABLE "sync_project" ADD COLUMN "last_push_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "sync_project" ADD COLUMN "last_push_sha" varchar(64);--> statement-breakpoint
ALTER TABLE "sync_project" ADD COLUMN "validation_pending" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "item_log" RENAME TO "sync_item_event";--> statement-breakpoint
ALTER TABLE "sync_item_event" RENAME CONSTRAINT "item_log_pkey" TO "sync_item_event_pkey";--> statement-breakpoint
ALTER SEQUENCE "item_log_id_seq" RENAME TO "sync_item_event_id_seq";--> statement-breakpoint
ALTER INDEX "item_log_project_idx" RENAME TO "sync_item_event_project_idx";
