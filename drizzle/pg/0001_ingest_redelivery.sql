CREATE TABLE "ingest_redelivery" (
	"queue" varchar(255) NOT NULL,
	"message_id" varchar(200) NOT NULL,
	"deliveries" integer NOT NULL,
	"first_seen_at" timestamp (3) with time zone NOT NULL,
	"last_seen_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "ingest_redelivery_queue_message_id_pk" PRIMARY KEY("queue","message_id")
);
