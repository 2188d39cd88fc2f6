-- A project's messages that failed for good (sync_dead_letter) and GitLab's head as update-item last
-- read it (sync_project.seen_head_*): what GET /items/{projectId}'s status block and ?stale=true show.
CREATE TABLE "sync_dead_letter" (
	"project_id" bigint NOT NULL,
	"message_type" varchar(20) NOT NULL,
	"queue" varchar(255) NOT NULL,
	"message_id" varchar(200),
	"reason" varchar(2000) NOT NULL,
	"attempts" integer NOT NULL,
	"dead_lettered_by" varchar(20) NOT NULL,
	"dead_lettered_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "sync_dead_letter_project_id_message_type_pk" PRIMARY KEY("project_id","message_type")
);
--> statement-breakpoint
ALTER TABLE "sync_project" ADD COLUMN "seen_head_hash" varchar(64);--> statement-breakpoint
ALTER TABLE "sync_project" ADD COLUMN "seen_head_date" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "sync_project" ADD COLUMN "seen_head_at" timestamp (3) with time zone;