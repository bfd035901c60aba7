CREATE TABLE `media_cases` (
	`id` text PRIMARY KEY NOT NULL,
	`item_id` text NOT NULL,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`severity` text NOT NULL,
	`list_id` text,
	`matched_hash` text,
	`distance` integer,
	`details_json` text DEFAULT '{}' NOT NULL,
	`opened_at_ms` integer NOT NULL,
	`resolved_by` text,
	`resolved_at_ms` integer,
	`resolution_note` text
);
--> statement-breakpoint
CREATE INDEX `media_cases_status_idx` ON `media_cases` (`status`,`opened_at_ms`);--> statement-breakpoint
CREATE INDEX `media_cases_item_idx` ON `media_cases` (`item_id`);--> statement-breakpoint
CREATE TABLE `media_frame_hashes` (
	`item_id` text NOT NULL,
	`frame_index` integer NOT NULL,
	`time_ms` integer NOT NULL,
	`pdq_hex` text NOT NULL,
	`quality` integer NOT NULL,
	PRIMARY KEY(`item_id`, `frame_index`)
);
--> statement-breakpoint
CREATE TABLE `media_geo_blocks` (
	`creator_id` text NOT NULL,
	`region` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	PRIMARY KEY(`creator_id`, `region`)
);
--> statement-breakpoint
CREATE TABLE `media_hash_list_imports` (
	`id` text PRIMARY KEY NOT NULL,
	`list_id` text NOT NULL,
	`object_key` text NOT NULL,
	`sha256` text NOT NULL,
	`status` text NOT NULL,
	`lines_total` integer DEFAULT 0 NOT NULL,
	`added` integer DEFAULT 0 NOT NULL,
	`duplicates` integer DEFAULT 0 NOT NULL,
	`invalid` integer DEFAULT 0 NOT NULL,
	`errors_json` text DEFAULT '[]' NOT NULL,
	`created_by` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`finished_at_ms` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `media_hash_list_imports_file_uq` ON `media_hash_list_imports` (`list_id`,`sha256`);--> statement-breakpoint
CREATE TABLE `media_hash_lists` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`source` text NOT NULL,
	`provider` text NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`entry_count` integer DEFAULT 0 NOT NULL,
	`created_by` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `media_item_performers` (
	`item_id` text NOT NULL,
	`performer_id` text NOT NULL,
	`added_by` text NOT NULL,
	`added_at_ms` integer NOT NULL,
	PRIMARY KEY(`item_id`, `performer_id`)
);
--> statement-breakpoint
CREATE INDEX `media_item_performers_performer_idx` ON `media_item_performers` (`performer_id`);--> statement-breakpoint
CREATE TABLE `media_items` (
	`id` text PRIMARY KEY NOT NULL,
	`creator_id` text NOT NULL,
	`brand_id` text NOT NULL,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`access` text DEFAULT 'subscribers' NOT NULL,
	`title` text DEFAULT '' NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`tags_json` text DEFAULT '[]' NOT NULL,
	`mime` text,
	`size_bytes` integer,
	`width` integer,
	`height` integer,
	`duration_ms` integer,
	`original_key` text,
	`sha256` text,
	`md5` text,
	`pdq_hex` text,
	`pdq_quality` integer,
	`classifier_json` text,
	`hls_segments` integer,
	`status_reason` text,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL,
	`published_at_ms` integer,
	`removed_at_ms` integer
);
--> statement-breakpoint
CREATE INDEX `media_items_creator_idx` ON `media_items` (`creator_id`,`created_at_ms`);--> statement-breakpoint
CREATE INDEX `media_items_status_idx` ON `media_items` (`status`,`updated_at_ms`);--> statement-breakpoint
CREATE INDEX `media_items_brand_status_idx` ON `media_items` (`brand_id`,`status`,`published_at_ms`);--> statement-breakpoint
CREATE INDEX `media_items_sha256_idx` ON `media_items` (`sha256`);--> statement-breakpoint
CREATE INDEX `media_items_md5_idx` ON `media_items` (`md5`);--> statement-breakpoint
CREATE TABLE `media_marks` (
	`serial` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`item_id` text NOT NULL,
	`creator_id` text NOT NULL,
	`viewer_id` text,
	`kind` text NOT NULL,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `media_marks_copy_uq` ON `media_marks` (`item_id`,`viewer_id`,`kind`);--> statement-breakpoint
CREATE INDEX `media_marks_viewer_idx` ON `media_marks` (`viewer_id`);--> statement-breakpoint
CREATE TABLE `media_quotas` (
	`creator_id` text PRIMARY KEY NOT NULL,
	`quota_bytes` integer NOT NULL,
	`updated_by` text NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `media_reviews` (
	`item_id` text PRIMARY KEY NOT NULL,
	`priority` integer NOT NULL,
	`due_at_ms` integer NOT NULL,
	`status` text NOT NULL,
	`claimed_by` text,
	`claimed_until_ms` integer,
	`decision` text,
	`reasons_json` text DEFAULT '[]' NOT NULL,
	`decided_by` text,
	`decided_at_ms` integer,
	`enqueued_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `media_reviews_queue_idx` ON `media_reviews` (`status`,`priority`,`due_at_ms`);--> statement-breakpoint
CREATE TABLE `media_uploads` (
	`id` text PRIMARY KEY NOT NULL,
	`item_id` text NOT NULL,
	`creator_id` text NOT NULL,
	`protocol` text NOT NULL,
	`declared_length` integer,
	`received_bytes` integer DEFAULT 0 NOT NULL,
	`status` text NOT NULL,
	`metadata_json` text DEFAULT '{}' NOT NULL,
	`expires_at_ms` integer NOT NULL,
	`created_at_ms` integer NOT NULL,
	`completed_at_ms` integer
);
--> statement-breakpoint
CREATE INDEX `media_uploads_creator_idx` ON `media_uploads` (`creator_id`,`status`);--> statement-breakpoint
CREATE INDEX `media_uploads_expiry_idx` ON `media_uploads` (`status`,`expires_at_ms`);--> statement-breakpoint
CREATE TABLE `media_watermark_settings` (
	`scope` text PRIMARY KEY NOT NULL,
	`visible` integer DEFAULT true NOT NULL,
	`template` text DEFAULT '{brand} / @{handle}' NOT NULL,
	`position` text DEFAULT 'bottom-right' NOT NULL,
	`opacity` integer DEFAULT 45 NOT NULL,
	`updated_by` text NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
-- Full-text search over titles, descriptions and tags. Contentless: the text lives once, in
-- media_items; the index follows it by triggers and answers rowids (media_items' implicit rowid,
-- which only a VACUUM could renumber: D1 runs none on user tables).
CREATE VIRTUAL TABLE `media_search` USING fts5(`title`, `description`, `tags`, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2');
--> statement-breakpoint
CREATE TRIGGER `media_search_ai` AFTER INSERT ON `media_items` BEGIN
  INSERT INTO `media_search`(rowid, `title`, `description`, `tags`) VALUES (new.rowid, new.title, new.description, new.tags_json);
END;
--> statement-breakpoint
CREATE TRIGGER `media_search_au` AFTER UPDATE OF `title`, `description`, `tags_json` ON `media_items` BEGIN
  DELETE FROM `media_search` WHERE rowid = old.rowid;
  INSERT INTO `media_search`(rowid, `title`, `description`, `tags`) VALUES (new.rowid, new.title, new.description, new.tags_json);
END;
--> statement-breakpoint
CREATE TRIGGER `media_search_ad` AFTER DELETE ON `media_items` BEGIN
  DELETE FROM `media_search` WHERE rowid = old.rowid;
END;
--> statement-breakpoint
-- Marks handed out are evidence: never rewritten.
CREATE TRIGGER `media_marks_append_only` BEFORE UPDATE ON `media_marks` BEGIN SELECT RAISE(ABORT, 'media_marks is append-only'); END;
--> statement-breakpoint
-- The platform's own list: content removed after a DMCA notice or a consent withdrawal.
INSERT INTO `media_hash_lists` (`id`, `name`, `source`, `provider`, `active`, `entry_count`, `created_by`, `created_at_ms`, `updated_at_ms`) VALUES ('hl_platform_removed', 'Removed from FANZ (DMCA, consent withdrawn)', 'platform_removed', 'platform', 1, 0, 'system', 0, 0);
