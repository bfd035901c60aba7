CREATE TABLE `gateway_events` (
	`gateway` text NOT NULL,
	`event_id` text NOT NULL,
	`type` text NOT NULL,
	`payment_id` text,
	`gateway_transaction_id` text,
	`original_transaction_id` text,
	`amount_minor` integer,
	`currency` text,
	`occurred_at_ms` integer NOT NULL,
	`evidence_key` text NOT NULL,
	`status` text NOT NULL,
	`detail` text,
	`received_at_ms` integer NOT NULL,
	`applied_at_ms` integer,
	PRIMARY KEY(`gateway`, `event_id`)
);
--> statement-breakpoint
CREATE INDEX `gateway_events_status_idx` ON `gateway_events` (`status`,`received_at_ms`);--> statement-breakpoint
CREATE INDEX `gateway_events_payment_idx` ON `gateway_events` (`payment_id`);--> statement-breakpoint
CREATE TABLE `payments` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`brand_id` text NOT NULL,
	`creator_id` text NOT NULL,
	`fan_user_id` text NOT NULL,
	`amount_minor` integer NOT NULL,
	`currency` text NOT NULL,
	`gateway` text NOT NULL,
	`mid_id` text,
	`status` text NOT NULL,
	`gateway_transaction_id` text,
	`subscription_id` text,
	`refunded_minor` integer DEFAULT 0 NOT NULL,
	`routing_json` text,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `payments_creator_idx` ON `payments` (`creator_id`,`created_at_ms`);--> statement-breakpoint
CREATE INDEX `payments_fan_idx` ON `payments` (`fan_user_id`,`created_at_ms`);--> statement-breakpoint
CREATE INDEX `payments_gateway_tx_idx` ON `payments` (`gateway`,`gateway_transaction_id`);