ALTER TABLE `batch_job_execution` ADD `launched_by` text;--> statement-breakpoint
ALTER TABLE `batch_job_execution` ADD `runner` text;--> statement-breakpoint
ALTER TABLE `batch_job_execution` ADD `mode` text;--> statement-breakpoint
ALTER TABLE `batch_step_execution` ADD `unchanged_count` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `batch_step_execution` ADD `hooks_adopted` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `item` ADD `hook_verified_at` integer;