ALTER TABLE `gateway_events` ADD `subscription_id` text;--> statement-breakpoint
ALTER TABLE `gateway_events` ADD `reason` text;