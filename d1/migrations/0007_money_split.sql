ALTER TABLE `brands` ADD `platform_fee_bps` integer DEFAULT 2000 NOT NULL;--> statement-breakpoint
ALTER TABLE `brands` ADD `reserve_bps` integer DEFAULT 500 NOT NULL;--> statement-breakpoint
ALTER TABLE `brands` ADD `reserve_days` integer DEFAULT 90 NOT NULL;--> statement-breakpoint
ALTER TABLE `brands` ADD `pending_days` integer DEFAULT 7 NOT NULL;--> statement-breakpoint
ALTER TABLE `creators` ADD `user_id` text;--> statement-breakpoint
ALTER TABLE `creators` ADD `platform_fee_bps` integer;--> statement-breakpoint
CREATE INDEX `creators_user_idx` ON `creators` (`user_id`);