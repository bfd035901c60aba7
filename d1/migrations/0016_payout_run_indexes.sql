DROP INDEX `payout_refusals_run_idx`;--> statement-breakpoint
CREATE INDEX `payout_refusals_run_idx` ON `payout_refusals` (`run_id`,`creator_id`);--> statement-breakpoint
CREATE INDEX `payout_batches_run_idx` ON `payout_batches` (`run_id`);--> statement-breakpoint
CREATE INDEX `payouts_run_idx` ON `payouts` (`run_id`,`state`);