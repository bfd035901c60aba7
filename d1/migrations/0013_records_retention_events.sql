CREATE TABLE `records_retention_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`effective_on` text NOT NULL,
	`note` text NOT NULL,
	`recorded_by` text NOT NULL,
	`recorded_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TRIGGER `records_retention_events_append_only_update` BEFORE UPDATE ON `records_retention_events` BEGIN SELECT RAISE(ABORT, 'retention events are append-only'); END;--> statement-breakpoint
CREATE TRIGGER `records_retention_events_append_only_delete` BEFORE DELETE ON `records_retention_events` BEGIN SELECT RAISE(ABORT, 'retention events are append-only'); END;
