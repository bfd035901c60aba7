CREATE TABLE `brands` (
	`id` text PRIMARY KEY NOT NULL,
	`slug` text NOT NULL,
	`name` text NOT NULL,
	`primary_domain` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`theme_json` text NOT NULL,
	`tagline` text DEFAULT '' NOT NULL,
	`custodian_json` text NOT NULL,
	`dmca_agent_json` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `brands_slug_unique` ON `brands` (`slug`);--> statement-breakpoint
CREATE TABLE `creators` (
	`id` text PRIMARY KEY NOT NULL,
	`brand_id` text NOT NULL,
	`handle` text NOT NULL,
	`display_name` text NOT NULL,
	`bio` text DEFAULT '' NOT NULL,
	`created_at_ms` integer NOT NULL,
	FOREIGN KEY (`brand_id`) REFERENCES `brands`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `creators_brand_handle_uq` ON `creators` (`brand_id`,`handle`);--> statement-breakpoint
CREATE TABLE `domains` (
	`hostname` text PRIMARY KEY NOT NULL,
	`brand_id` text NOT NULL,
	`kind` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	FOREIGN KEY (`brand_id`) REFERENCES `brands`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `domains_brand_idx` ON `domains` (`brand_id`);--> statement-breakpoint
CREATE TABLE `geo_rules` (
	`id` text PRIMARY KEY NOT NULL,
	`brand_id` text,
	`country` text NOT NULL,
	`region` text,
	`action` text NOT NULL,
	`pool_id` text,
	`note` text DEFAULT '' NOT NULL,
	`created_at_ms` integer NOT NULL,
	FOREIGN KEY (`brand_id`) REFERENCES `brands`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`pool_id`) REFERENCES `origin_pools`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `geo_rules_country_idx` ON `geo_rules` (`country`,`region`);--> statement-breakpoint
CREATE TABLE `origin_health_checks` (
	`id` text PRIMARY KEY NOT NULL,
	`origin_id` text NOT NULL,
	`checked_at_ms` integer NOT NULL,
	`ok` integer NOT NULL,
	`status_code` integer,
	`latency_ms` integer,
	`error` text,
	`transition` text,
	FOREIGN KEY (`origin_id`) REFERENCES `origins`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `origin_health_checks_origin_idx` ON `origin_health_checks` (`origin_id`,`checked_at_ms`);--> statement-breakpoint
CREATE TABLE `origin_pools` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`brand_id` text,
	`path_prefix` text NOT NULL,
	`health_path` text DEFAULT '/' NOT NULL,
	`expected_status` integer DEFAULT 200 NOT NULL,
	`fail_threshold` integer DEFAULT 3 NOT NULL,
	`ok_threshold` integer DEFAULT 2 NOT NULL,
	`timeout_ms` integer DEFAULT 5000 NOT NULL,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL,
	FOREIGN KEY (`brand_id`) REFERENCES `brands`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `origins` (
	`id` text PRIMARY KEY NOT NULL,
	`pool_id` text NOT NULL,
	`url` text NOT NULL,
	`region` text DEFAULT '*' NOT NULL,
	`priority` integer DEFAULT 0 NOT NULL,
	`status` text DEFAULT 'up' NOT NULL,
	`consecutive_failures` integer DEFAULT 0 NOT NULL,
	`consecutive_successes` integer DEFAULT 0 NOT NULL,
	`last_checked_at_ms` integer,
	`last_latency_ms` integer,
	`last_error` text,
	`created_at_ms` integer NOT NULL,
	FOREIGN KEY (`pool_id`) REFERENCES `origin_pools`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `origins_pool_idx` ON `origins` (`pool_id`);--> statement-breakpoint
CREATE TABLE `request_metrics` (
	`bucket_ms` integer NOT NULL,
	`hostname` text NOT NULL,
	`brand` text NOT NULL,
	`country` text NOT NULL,
	`status` integer NOT NULL,
	`latency_bucket` text NOT NULL,
	`count` integer NOT NULL,
	`latency_sum_ms` integer NOT NULL,
	PRIMARY KEY(`bucket_ms`, `hostname`, `country`, `status`, `latency_bucket`)
);
--> statement-breakpoint
CREATE INDEX `request_metrics_brand_idx` ON `request_metrics` (`brand`,`bucket_ms`);--> statement-breakpoint
CREATE TABLE `signing_keys` (
	`kid` text PRIMARY KEY NOT NULL,
	`alg` text NOT NULL,
	`state` text NOT NULL,
	`public_jwk` text NOT NULL,
	`private_jwk_enc` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`activated_at_ms` integer,
	`retired_at_ms` integer,
	`expires_at_ms` integer
);
--> statement-breakpoint
CREATE INDEX `signing_keys_state_idx` ON `signing_keys` (`state`);--> statement-breakpoint
CREATE TABLE `dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`queue` text NOT NULL,
	`message_id` text NOT NULL,
	`body_json` text NOT NULL,
	`attempts` integer NOT NULL,
	`received_at_ms` integer NOT NULL,
	`status` text DEFAULT 'open' NOT NULL,
	`resolved_at_ms` integer,
	`resolution` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dead_letters_message_id_unique` ON `dead_letters` (`message_id`);--> statement-breakpoint
CREATE INDEX `dead_letters_status_idx` ON `dead_letters` (`status`,`received_at_ms`);