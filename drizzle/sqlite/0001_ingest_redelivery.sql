CREATE TABLE `ingest_redelivery` (
	`queue` text NOT NULL,
	`message_id` text NOT NULL,
	`deliveries` integer NOT NULL,
	`first_seen_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	PRIMARY KEY(`queue`, `message_id`)
);
