CREATE TABLE `payout_attempts` (
	`payout_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`outcome` text NOT NULL,
	`code` text,
	`detail` text,
	`at_ms` integer NOT NULL,
	PRIMARY KEY(`payout_id`, `attempt`)
);
--> statement-breakpoint
CREATE TABLE `payout_batch_approvals` (
	`batch_id` text NOT NULL,
	`user_id` text NOT NULL,
	`roles` text NOT NULL,
	`at_ms` integer NOT NULL,
	PRIMARY KEY(`batch_id`, `user_id`)
);
--> statement-breakpoint
CREATE TABLE `payout_batches` (
	`id` text PRIMARY KEY NOT NULL,
	`run_id` text,
	`rail` text NOT NULL,
	`currency` text NOT NULL,
	`state` text NOT NULL,
	`count` integer NOT NULL,
	`total_minor` integer NOT NULL,
	`fee_minor` integer NOT NULL,
	`approvals_required` integer NOT NULL,
	`external_ref` text,
	`created_by` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`submitted_at_ms` integer,
	`finished_at_ms` integer,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `payout_batches_state_idx` ON `payout_batches` (`state`,`created_at_ms`);--> statement-breakpoint
CREATE TABLE `payout_compliance_holds` (
	`id` text PRIMARY KEY NOT NULL,
	`creator_id` text NOT NULL,
	`reason` text NOT NULL,
	`placed_by` text NOT NULL,
	`placed_at_ms` integer NOT NULL,
	`released_by` text,
	`released_at_ms` integer
);
--> statement-breakpoint
CREATE INDEX `payout_compliance_holds_open_idx` ON `payout_compliance_holds` (`creator_id`,`released_at_ms`);--> statement-breakpoint
CREATE TABLE `payout_fee_schedules` (
	`rail` text NOT NULL,
	`currency` text NOT NULL,
	`fixed_minor` integer NOT NULL,
	`percent_bps` integer NOT NULL,
	`fx_spread_bps` integer DEFAULT 0 NOT NULL,
	`instant_fixed_minor` integer,
	`instant_percent_bps` integer,
	`min_payout_minor` integer NOT NULL,
	`max_payout_minor` integer,
	`per_batch_fixed_minor` integer DEFAULT 0 NOT NULL,
	`updated_by` text NOT NULL,
	`updated_at_ms` integer NOT NULL,
	PRIMARY KEY(`rail`, `currency`)
);
--> statement-breakpoint
CREATE TABLE `payout_files` (
	`id` text PRIMARY KEY NOT NULL,
	`batch_id` text NOT NULL,
	`format` text NOT NULL,
	`r2_key` text NOT NULL,
	`sha256_hex` text NOT NULL,
	`byte_length` integer NOT NULL,
	`entry_count` integer NOT NULL,
	`total_minor` integer NOT NULL,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payout_files_batch_uq` ON `payout_files` (`batch_id`);--> statement-breakpoint
CREATE TABLE `payout_methods` (
	`id` text PRIMARY KEY NOT NULL,
	`creator_id` text NOT NULL,
	`type` text NOT NULL,
	`rail` text NOT NULL,
	`currency` text NOT NULL,
	`summary` text NOT NULL,
	`details_sealed` text NOT NULL,
	`usable_from_ms` integer NOT NULL,
	`is_default` integer DEFAULT false NOT NULL,
	`created_by` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`removed_at_ms` integer
);
--> statement-breakpoint
CREATE INDEX `payout_methods_creator_idx` ON `payout_methods` (`creator_id`,`removed_at_ms`);--> statement-breakpoint
CREATE TABLE `payout_refusals` (
	`id` text PRIMARY KEY NOT NULL,
	`run_id` text,
	`creator_id` text NOT NULL,
	`code` text NOT NULL,
	`detail` text NOT NULL,
	`at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `payout_refusals_creator_idx` ON `payout_refusals` (`creator_id`,`at_ms`);--> statement-breakpoint
CREATE INDEX `payout_refusals_run_idx` ON `payout_refusals` (`run_id`);--> statement-breakpoint
CREATE TABLE `payout_returns` (
	`id` text PRIMARY KEY NOT NULL,
	`payout_id` text NOT NULL,
	`source` text NOT NULL,
	`code` text NOT NULL,
	`reason` text NOT NULL,
	`recorded_by` text NOT NULL,
	`at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payout_returns_payout_uq` ON `payout_returns` (`payout_id`);--> statement-breakpoint
CREATE TABLE `payout_rules` (
	`creator_id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`weekday` integer,
	`threshold_minor` integer,
	`dates_json` text,
	`currency` text NOT NULL,
	`method_id` text,
	`updated_by` text NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `payout_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`run_date` text NOT NULL,
	`trigger` text NOT NULL,
	`state` text NOT NULL,
	`evaluated` integer DEFAULT 0 NOT NULL,
	`created` integer DEFAULT 0 NOT NULL,
	`refused` integer DEFAULT 0 NOT NULL,
	`started_by` text NOT NULL,
	`started_at_ms` integer NOT NULL,
	`finished_at_ms` integer
);
--> statement-breakpoint
CREATE TABLE `payouts` (
	`id` text PRIMARY KEY NOT NULL,
	`creator_id` text NOT NULL,
	`batch_id` text,
	`run_id` text,
	`method_id` text NOT NULL,
	`rail` text NOT NULL,
	`kind` text NOT NULL,
	`currency` text NOT NULL,
	`amount_minor` integer NOT NULL,
	`fee_minor` integer NOT NULL,
	`net_minor` integer NOT NULL,
	`state` text NOT NULL,
	`hold_id` text,
	`idempotency_key` text NOT NULL,
	`processor_ref` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at_ms` integer,
	`failure_code` text,
	`failure_reason` text,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL,
	`settled_at_ms` integer
);
--> statement-breakpoint
CREATE INDEX `payouts_creator_idx` ON `payouts` (`creator_id`,`created_at_ms`);--> statement-breakpoint
CREATE INDEX `payouts_batch_idx` ON `payouts` (`batch_id`);--> statement-breakpoint
CREATE INDEX `payouts_state_idx` ON `payouts` (`state`,`next_attempt_at_ms`);--> statement-breakpoint
CREATE UNIQUE INDEX `payouts_idempotency_key_uq` ON `payouts` (`idempotency_key`);--> statement-breakpoint
CREATE TABLE `sandbox_payout_transfers` (
	`idempotency_key` text PRIMARY KEY NOT NULL,
	`json` text NOT NULL
);
--> statement-breakpoint
-- a cron firing twice on one day finds the day's run instead of paying twice
CREATE UNIQUE INDEX `payout_runs_cron_day_uq` ON `payout_runs` (`run_date`) WHERE `trigger` = 'cron';--> statement-breakpoint
-- at most one payout per creator and currency waiting to leave: two runs racing cannot both create one
CREATE UNIQUE INDEX `payouts_one_open_uq` ON `payouts` (`creator_id`, `currency`) WHERE `state` IN ('pending', 'queued');--> statement-breakpoint
-- attempts and returns are history: never rewritten
CREATE TRIGGER `payout_attempts_append_only_update` BEFORE UPDATE ON `payout_attempts` BEGIN SELECT RAISE(ABORT, 'payout attempts are append-only'); END;--> statement-breakpoint
CREATE TRIGGER `payout_attempts_append_only_delete` BEFORE DELETE ON `payout_attempts` BEGIN SELECT RAISE(ABORT, 'payout attempts are append-only'); END;--> statement-breakpoint
CREATE TRIGGER `payout_returns_append_only_update` BEFORE UPDATE ON `payout_returns` BEGIN SELECT RAISE(ABORT, 'payout returns are append-only'); END;--> statement-breakpoint
CREATE TRIGGER `payout_returns_append_only_delete` BEFORE DELETE ON `payout_returns` BEGIN SELECT RAISE(ABORT, 'payout returns are append-only'); END;
