CREATE TABLE "batch_job_execution" (
	"job_execution_id" bigserial PRIMARY KEY NOT NULL,
	"version" bigint DEFAULT 0 NOT NULL,
	"job_instance_id" bigint NOT NULL,
	"job_name" varchar(100) NOT NULL,
	"create_time" timestamp (3) with time zone NOT NULL,
	"start_time" timestamp (3) with time zone,
	"end_time" timestamp (3) with time zone,
	"status" varchar(10) NOT NULL,
	"exit_code" varchar(2500) NOT NULL,
	"exit_message" varchar(2500) DEFAULT '' NOT NULL,
	"last_updated" timestamp (3) with time zone NOT NULL,
	"trigger" varchar(10) NOT NULL,
	"restart_of" bigint
);
--> statement-breakpoint
CREATE TABLE "batch_job_execution_context" (
	"job_execution_id" bigint PRIMARY KEY NOT NULL,
	"short_context" varchar(2500) NOT NULL,
	"serialized_context" text
);
--> statement-breakpoint
CREATE TABLE "batch_job_execution_params" (
	"job_execution_id" bigint NOT NULL,
	"parameter_name" varchar(100) NOT NULL,
	"parameter_type" varchar(100) NOT NULL,
	"parameter_value" varchar(2500),
	"identifying" boolean NOT NULL,
	CONSTRAINT "batch_job_execution_params_job_execution_id_parameter_name_pk" PRIMARY KEY("job_execution_id","parameter_name")
);
--> statement-breakpoint
CREATE TABLE "batch_job_instance" (
	"job_instance_id" bigserial PRIMARY KEY NOT NULL,
	"version" bigint DEFAULT 0 NOT NULL,
	"job_name" varchar(100) NOT NULL,
	"job_key" varchar(64) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "batch_job_lock" (
	"job_name" varchar(100) PRIMARY KEY NOT NULL
);
--> statement-breakpoint
CREATE TABLE "batch_step_execution" (
	"step_execution_id" bigserial PRIMARY KEY NOT NULL,
	"version" bigint DEFAULT 0 NOT NULL,
	"step_name" varchar(100) NOT NULL,
	"job_execution_id" bigint NOT NULL,
	"create_time" timestamp (3) with time zone NOT NULL,
	"start_time" timestamp (3) with time zone,
	"end_time" timestamp (3) with time zone,
	"status" varchar(10) NOT NULL,
	"commit_count" bigint DEFAULT 0 NOT NULL,
	"read_count" bigint DEFAULT 0 NOT NULL,
	"filter_count" bigint DEFAULT 0 NOT NULL,
	"write_count" bigint DEFAULT 0 NOT NULL,
	"read_skip_count" bigint DEFAULT 0 NOT NULL,
	"write_skip_count" bigint DEFAULT 0 NOT NULL,
	"process_skip_count" bigint DEFAULT 0 NOT NULL,
	"rollback_count" bigint DEFAULT 0 NOT NULL,
	"hooks_checked" bigint DEFAULT 0 NOT NULL,
	"monitor_published" bigint DEFAULT 0 NOT NULL,
	"update_published" bigint DEFAULT 0 NOT NULL,
	"delete_published" bigint DEFAULT 0 NOT NULL,
	"exit_code" varchar(2500) NOT NULL,
	"exit_message" varchar(2500) DEFAULT '' NOT NULL,
	"last_updated" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "batch_step_execution_context" (
	"step_execution_id" bigint PRIMARY KEY NOT NULL,
	"short_context" varchar(2500) NOT NULL,
	"serialized_context" text
);
--> statement-breakpoint
CREATE TABLE "item" (
	"project_id" bigint PRIMARY KEY NOT NULL,
	"project_path" varchar(1000) NOT NULL,
	"name" varchar(1000) NOT NULL,
	"default_branch" varchar(255),
	"current_commit_hash" varchar(64),
	"current_commit_date" timestamp (3) with time zone,
	"item_json" text,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "item_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"project_id" bigint NOT NULL,
	"action" varchar(20) NOT NULL,
	"commit_hash" varchar(64),
	"commit_date" timestamp (3) with time zone,
	"job_execution_id" bigint,
	"message_id" varchar(200),
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_seen_project" (
	"job_instance_id" bigint NOT NULL,
	"project_id" bigint NOT NULL,
	CONSTRAINT "sync_seen_project_job_instance_id_project_id_pk" PRIMARY KEY("job_instance_id","project_id")
);
--> statement-breakpoint
ALTER TABLE "batch_job_execution" ADD CONSTRAINT "batch_job_execution_job_instance_id_batch_job_instance_job_instance_id_fk" FOREIGN KEY ("job_instance_id") REFERENCES "public"."batch_job_instance"("job_instance_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_job_execution_context" ADD CONSTRAINT "batch_job_execution_context_job_execution_id_batch_job_execution_job_execution_id_fk" FOREIGN KEY ("job_execution_id") REFERENCES "public"."batch_job_execution"("job_execution_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_job_execution_params" ADD CONSTRAINT "batch_job_execution_params_job_execution_id_batch_job_execution_job_execution_id_fk" FOREIGN KEY ("job_execution_id") REFERENCES "public"."batch_job_execution"("job_execution_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_step_execution" ADD CONSTRAINT "batch_step_execution_job_execution_id_batch_job_execution_job_execution_id_fk" FOREIGN KEY ("job_execution_id") REFERENCES "public"."batch_job_execution"("job_execution_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_step_execution_context" ADD CONSTRAINT "batch_step_execution_context_step_execution_id_batch_step_execution_step_execution_id_fk" FOREIGN KEY ("step_execution_id") REFERENCES "public"."batch_step_execution"("step_execution_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "batch_job_execution_one_running_uq" ON "batch_job_execution" USING btree ("job_name") WHERE status in ('STARTING', 'STARTED', 'STOPPING');--> statement-breakpoint
CREATE INDEX "batch_job_execution_instance_idx" ON "batch_job_execution" USING btree ("job_instance_id");--> statement-breakpoint
CREATE INDEX "batch_job_execution_status_idx" ON "batch_job_execution" USING btree ("status");--> statement-breakpoint
CREATE UNIQUE INDEX "batch_job_instance_key_uq" ON "batch_job_instance" USING btree ("job_name","job_key");--> statement-breakpoint
CREATE INDEX "batch_step_execution_job_idx" ON "batch_step_execution" USING btree ("job_execution_id");--> statement-breakpoint
CREATE INDEX "item_project_path_idx" ON "item" USING btree ("project_path");--> statement-breakpoint
CREATE INDEX "item_log_project_idx" ON "item_log" USING btree ("project_id","id");