CREATE TABLE `batch_job_execution` (
	`job_execution_id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`version` integer DEFAULT 0 NOT NULL,
	`job_instance_id` integer NOT NULL,
	`job_name` text NOT NULL,
	`create_time` integer NOT NULL,
	`start_time` integer,
	`end_time` integer,
	`status` text NOT NULL,
	`exit_code` text NOT NULL,
	`exit_message` text DEFAULT '' NOT NULL,
	`last_updated` integer NOT NULL,
	`trigger` text NOT NULL,
	`restart_of` integer,
	FOREIGN KEY (`job_instance_id`) REFERENCES `batch_job_instance`(`job_instance_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `batch_job_execution_one_running_uq` ON `batch_job_execution` (`job_name`) WHERE status in ('STARTING', 'STARTED', 'STOPPING');--> statement-breakpoint
CREATE INDEX `batch_job_execution_instance_idx` ON `batch_job_execution` (`job_instance_id`);--> statement-breakpoint
CREATE INDEX `batch_job_execution_status_idx` ON `batch_job_execution` (`status`);--> statement-breakpoint
CREATE TABLE `batch_job_execution_context` (
	`job_execution_id` integer PRIMARY KEY NOT NULL,
	`short_context` text NOT NULL,
	`serialized_context` text,
	FOREIGN KEY (`job_execution_id`) REFERENCES `batch_job_execution`(`job_execution_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `batch_job_execution_params` (
	`job_execution_id` integer NOT NULL,
	`parameter_name` text NOT NULL,
	`parameter_type` text NOT NULL,
	`parameter_value` text,
	`identifying` integer NOT NULL,
	PRIMARY KEY(`job_execution_id`, `parameter_name`),
	FOREIGN KEY (`job_execution_id`) REFERENCES `batch_job_execution`(`job_execution_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `batch_job_instance` (
	`job_instance_id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`version` integer DEFAULT 0 NOT NULL,
	`job_name` text NOT NULL,
	`job_key` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `batch_job_instance_key_uq` ON `batch_job_instance` (`job_name`,`job_key`);--> statement-breakpoint
CREATE TABLE `batch_job_lock` (
	`job_name` text PRIMARY KEY NOT NULL
);
--> statement-breakpoint
CREATE TABLE `batch_step_execution` (
	`step_execution_id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`version` integer DEFAULT 0 NOT NULL,
	`step_name` text NOT NULL,
	`job_execution_id` integer NOT NULL,
	`create_time` integer NOT NULL,
	`start_time` integer,
	`end_time` integer,
	`status` text NOT NULL,
	`commit_count` integer DEFAULT 0 NOT NULL,
	`read_count` integer DEFAULT 0 NOT NULL,
	`filter_count` integer DEFAULT 0 NOT NULL,
	`write_count` integer DEFAULT 0 NOT NULL,
	`read_skip_count` integer DEFAULT 0 NOT NULL,
	`write_skip_count` integer DEFAULT 0 NOT NULL,
	`process_skip_count` integer DEFAULT 0 NOT NULL,
	`rollback_count` integer DEFAULT 0 NOT NULL,
	`hooks_checked` integer DEFAULT 0 NOT NULL,
	`monitor_published` integer DEFAULT 0 NOT NULL,
	`update_published` integer DEFAULT 0 NOT NULL,
	`delete_published` integer DEFAULT 0 NOT NULL,
	`exit_code` text NOT NULL,
	`exit_message` text DEFAULT '' NOT NULL,
	`last_updated` integer NOT NULL,
	FOREIGN KEY (`job_execution_id`) REFERENCES `batch_job_execution`(`job_execution_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `batch_step_execution_job_idx` ON `batch_step_execution` (`job_execution_id`);--> statement-breakpoint
CREATE TABLE `batch_step_execution_context` (
	`step_execution_id` integer PRIMARY KEY NOT NULL,
	`short_context` text NOT NULL,
	`serialized_context` text,
	FOREIGN KEY (`step_execution_id`) REFERENCES `batch_step_execution`(`step_execution_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `item` (
	`project_id` integer PRIMARY KEY NOT NULL,
	`project_path` text NOT NULL,
	`name` text NOT NULL,
	`default_branch` text,
	`current_commit_hash` text,
	`current_commit_date` integer,
	`item_json` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `item_project_path_idx` ON `item` (`project_path`);--> statement-breakpoint
CREATE TABLE `item_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` integer NOT NULL,
	`action` text NOT NULL,
	`commit_hash` text,
	`commit_date` integer,
	`job_execution_id` integer,
	`message_id` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `item_log_project_idx` ON `item_log` (`project_id`,`id`);--> statement-breakpoint
CREATE TABLE `sync_seen_project` (
	`job_instance_id` integer NOT NULL,
	`project_id` integer NOT NULL,
	PRIMARY KEY(`job_instance_id`, `project_id`)
);
