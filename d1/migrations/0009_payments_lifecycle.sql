CREATE TABLE `bank_statement_entries` (
	`statement_id` text NOT NULL,
	`entry_ref` text NOT NULL,
	`amount_minor` integer NOT NULL,
	`currency` text NOT NULL,
	`booked_at_ms` integer NOT NULL,
	`remittance` text NOT NULL,
	`debtor_name` text,
	`status` text NOT NULL,
	`payment_id` text,
	`detail` text,
	PRIMARY KEY(`statement_id`, `entry_ref`)
);
--> statement-breakpoint
CREATE INDEX `bank_statement_entries_status_idx` ON `bank_statement_entries` (`status`);--> statement-breakpoint
CREATE UNIQUE INDEX `bank_statement_entries_ref_uq` ON `bank_statement_entries` (`entry_ref`,`currency`,`amount_minor`,`booked_at_ms`);--> statement-breakpoint
CREATE TABLE `bank_statements` (
	`id` text PRIMARY KEY NOT NULL,
	`format` text NOT NULL,
	`statement_ref` text NOT NULL,
	`account_iban` text,
	`r2_key` text NOT NULL,
	`entries` integer NOT NULL,
	`matched` integer NOT NULL,
	`imported_by` text,
	`imported_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `bank_statements_ref_uq` ON `bank_statements` (`statement_ref`);--> statement-breakpoint
CREATE TABLE `disputes` (
	`id` text PRIMARY KEY NOT NULL,
	`payment_id` text NOT NULL,
	`brand_id` text NOT NULL,
	`creator_id` text NOT NULL,
	`gateway` text NOT NULL,
	`mid_id` text,
	`opened_by_event_id` text NOT NULL,
	`network` text,
	`reason_code` text,
	`amount_minor` integer NOT NULL,
	`currency` text NOT NULL,
	`status` text NOT NULL,
	`respond_by_ms` integer,
	`evidence_key` text,
	`evidence_submitted_at_ms` integer,
	`resolved_at_ms` integer,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `disputes_payment_uq` ON `disputes` (`payment_id`,`opened_by_event_id`);--> statement-breakpoint
CREATE INDEX `disputes_status_idx` ON `disputes` (`status`,`created_at_ms`);--> statement-breakpoint
CREATE TABLE `gateway_configs` (
	`gateway` text PRIMARY KEY NOT NULL,
	`enabled` integer DEFAULT false NOT NULL,
	`methods_json` text NOT NULL,
	`processor_fee_bps` integer NOT NULL,
	`fixed_fee_minor` integer DEFAULT 0 NOT NULL,
	`chargeback_fee_minor` integer NOT NULL,
	`fee_currency` text NOT NULL,
	`updated_at_ms` integer NOT NULL,
	`updated_by` text
);
--> statement-breakpoint
CREATE TABLE `routing_configs` (
	`version` integer PRIMARY KEY NOT NULL,
	`config_json` text NOT NULL,
	`active` integer DEFAULT false NOT NULL,
	`note` text DEFAULT '' NOT NULL,
	`created_by` text,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `routing_configs_active_idx` ON `routing_configs` (`active`);--> statement-breakpoint
CREATE TABLE `subscriptions` (
	`id` text PRIMARY KEY NOT NULL,
	`brand_id` text NOT NULL,
	`creator_id` text NOT NULL,
	`fan_user_id` text NOT NULL,
	`gateway` text NOT NULL,
	`gateway_subscription_id` text,
	`initial_payment_id` text NOT NULL,
	`price_minor` integer NOT NULL,
	`currency` text NOT NULL,
	`period_days` integer NOT NULL,
	`status` text NOT NULL,
	`current_period_end_ms` integer,
	`rebills` integer DEFAULT 0 NOT NULL,
	`cancelled_at_ms` integer,
	`cancel_reason` text,
	`expired_at_ms` integer,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `subscriptions_fan_idx` ON `subscriptions` (`fan_user_id`,`created_at_ms`);--> statement-breakpoint
CREATE INDEX `subscriptions_creator_idx` ON `subscriptions` (`creator_id`,`status`);--> statement-breakpoint
CREATE INDEX `subscriptions_period_idx` ON `subscriptions` (`status`,`current_period_end_ms`);--> statement-breakpoint
CREATE INDEX `subscriptions_gateway_idx` ON `subscriptions` (`gateway`,`gateway_subscription_id`);--> statement-breakpoint
ALTER TABLE `creators` ADD `subscription_price_minor` integer;--> statement-breakpoint
ALTER TABLE `creators` ADD `subscription_currency` text;--> statement-breakpoint
ALTER TABLE `creators` ADD `subscription_period_days` integer DEFAULT 30 NOT NULL;--> statement-breakpoint
ALTER TABLE `payments` ADD `method` text DEFAULT 'card' NOT NULL;--> statement-breakpoint
ALTER TABLE `payments` ADD `country` text DEFAULT 'XX' NOT NULL;--> statement-breakpoint
ALTER TABLE `payments` ADD `retry_of` text;--> statement-breakpoint
ALTER TABLE `payments` ADD `failure_code` text;--> statement-breakpoint
ALTER TABLE `payments` ADD `failure_technical` integer;--> statement-breakpoint
ALTER TABLE `payments` ADD `bank_reference` text;--> statement-breakpoint
CREATE INDEX `payments_created_idx` ON `payments` (`created_at_ms`);--> statement-breakpoint
CREATE UNIQUE INDEX `payments_bank_reference_uq` ON `payments` (`bank_reference`);