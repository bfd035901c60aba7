CREATE TABLE `ledger_balances` (
	`creator_id` text NOT NULL,
	`currency` text NOT NULL,
	`account` text NOT NULL,
	`posted_minor` integer NOT NULL,
	`pending_minor` integer NOT NULL,
	`ledger_seq` integer NOT NULL,
	`updated_at_ms` integer NOT NULL,
	PRIMARY KEY(`creator_id`, `currency`, `account`)
);
--> statement-breakpoint
CREATE INDEX `ledger_balances_account_idx` ON `ledger_balances` (`account`,`currency`);--> statement-breakpoint
CREATE TABLE `merchant_ids` (
	`id` text PRIMARY KEY NOT NULL,
	`gateway` text NOT NULL,
	`descriptor` text NOT NULL,
	`acquirer` text NOT NULL,
	`currencies_json` text NOT NULL,
	`brands_json` text NOT NULL,
	`monthly_cap_minor` integer,
	`cap_currency` text,
	`region` text DEFAULT 'global' NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `merchant_ids_gateway_idx` ON `merchant_ids` (`gateway`,`status`);