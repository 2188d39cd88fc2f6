ALTER TABLE "batch_job_execution" ADD COLUMN "launched_by" varchar(255);--> statement-breakpoint
ALTER TABLE "batch_job_execution" ADD COLUMN "runner" varchar(255);--> statement-breakpoint
ALTER TABLE "batch_job_execution" ADD COLUMN "mode" varchar(20);--> statement-breakpoint
ALTER TABLE "batch_step_execution" ADD COLUMN "unchanged_count" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "batch_step_execution" ADD COLUMN "hooks_adopted" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "item" ADD COLUMN "hook_verified_at" timestamp (3) with time zone;