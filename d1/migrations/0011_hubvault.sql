CREATE TABLE `age_verifications` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`method` text NOT NULL,
	`provider` text NOT NULL,
	`provider_ref` text,
	`status` text NOT NULL,
	`jurisdiction` text NOT NULL,
	`verified_at_ms` integer,
	`expires_at_ms` integer,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `age_verifications_user_idx` ON `age_verifications` (`user_id`,`created_at_ms`);--> statement-breakpoint
CREATE UNIQUE INDEX `age_verifications_provider_ref_uq` ON `age_verifications` (`provider`,`provider_ref`);--> statement-breakpoint
CREATE TABLE `kyc_verifications` (
	`id` text PRIMARY KEY NOT NULL,
	`subject_type` text NOT NULL,
	`subject_id` text NOT NULL,
	`user_id` text,
	`provider` text NOT NULL,
	`provider_session_id` text,
	`status` text NOT NULL,
	`reason` text,
	`document_type` text,
	`document_country` text,
	`document_expires_on` text,
	`verified_at_ms` integer,
	`reviewed_by` text,
	`reminder_sent_at_ms` integer,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `kyc_subject_idx` ON `kyc_verifications` (`subject_type`,`subject_id`,`created_at_ms`);--> statement-breakpoint
CREATE INDEX `kyc_status_idx` ON `kyc_verifications` (`status`,`updated_at_ms`);--> statement-breakpoint
CREATE UNIQUE INDEX `kyc_provider_session_uq` ON `kyc_verifications` (`provider`,`provider_session_id`);--> statement-breakpoint
CREATE INDEX `kyc_expiry_idx` ON `kyc_verifications` (`document_expires_on`);--> statement-breakpoint
CREATE TABLE `performer_media` (
	`performer_id` text NOT NULL,
	`media_id` text NOT NULL,
	`brand_id` text NOT NULL,
	`title` text NOT NULL,
	`production_date` text NOT NULL,
	`urls_json` text NOT NULL,
	`consent_object_id` text NOT NULL,
	`release_object_id` text NOT NULL,
	`primary_producer_json` text,
	`linked_by` text NOT NULL,
	`linked_at_ms` integer NOT NULL,
	PRIMARY KEY(`performer_id`, `media_id`)
);
--> statement-breakpoint
CREATE INDEX `performer_media_media_idx` ON `performer_media` (`media_id`);--> statement-breakpoint
CREATE INDEX `performer_media_title_idx` ON `performer_media` (`title`);--> statement-breakpoint
CREATE TABLE `performer_media_urls` (
	`url` text NOT NULL,
	`performer_id` text NOT NULL,
	`media_id` text NOT NULL,
	PRIMARY KEY(`url`, `performer_id`, `media_id`)
);
--> statement-breakpoint
CREATE TABLE `performer_name_index` (
	`performer_id` text NOT NULL,
	`kind` text NOT NULL,
	`blind_index` text NOT NULL,
	`since_version` integer NOT NULL,
	PRIMARY KEY(`performer_id`, `kind`, `blind_index`)
);
--> statement-breakpoint
CREATE INDEX `performer_name_index_lookup_idx` ON `performer_name_index` (`blind_index`);--> statement-breakpoint
CREATE TABLE `performer_record_versions` (
	`performer_id` text NOT NULL,
	`version` integer NOT NULL,
	`object_id` text NOT NULL,
	`reason` text NOT NULL,
	`amended_by` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	PRIMARY KEY(`performer_id`, `version`)
);
--> statement-breakpoint
CREATE TABLE `performer_records` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text,
	`current_version` integer NOT NULL,
	`kyc_verification_id` text,
	`custodian_brand_id` text NOT NULL,
	`data_region` text DEFAULT 'global' NOT NULL,
	`created_at_ms` integer NOT NULL,
	`last_amended_at_ms` integer NOT NULL,
	`retain_until_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `performer_records_user_idx` ON `performer_records` (`user_id`);--> statement-breakpoint
CREATE INDEX `performer_records_custodian_idx` ON `performer_records` (`custodian_brand_id`);--> statement-breakpoint
CREATE TABLE `vault_objects` (
	`id` text PRIMARY KEY NOT NULL,
	`record_type` text NOT NULL,
	`record_id` text NOT NULL,
	`kind` text NOT NULL,
	`content_type` text NOT NULL,
	`byte_length` integer NOT NULL,
	`sha256_hex` text NOT NULL,
	`bucket` text NOT NULL,
	`r2_key` text NOT NULL,
	`kek_version` text NOT NULL,
	`wrapped_dek` text NOT NULL,
	`retain_until_ms` integer,
	`retention_basis` text,
	`created_by` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`rewrapped_at_ms` integer,
	`destroyed_at_ms` integer
);
--> statement-breakpoint
CREATE INDEX `vault_objects_record_idx` ON `vault_objects` (`record_type`,`record_id`);--> statement-breakpoint
CREATE INDEX `vault_objects_kek_idx` ON `vault_objects` (`kek_version`);--> statement-breakpoint
-- 28 CFR 75: amendments append; nothing in a performer record is ever rewritten or removed in place
CREATE TRIGGER `performer_record_versions_append_only_update` BEFORE UPDATE ON `performer_record_versions` BEGIN SELECT RAISE(ABORT, 'performer record versions are append-only'); END;--> statement-breakpoint
CREATE TRIGGER `performer_record_versions_append_only_delete` BEFORE DELETE ON `performer_record_versions` BEGIN SELECT RAISE(ABORT, 'performer record versions are append-only'); END;--> statement-breakpoint
CREATE TRIGGER `performer_media_append_only_update` BEFORE UPDATE ON `performer_media` BEGIN SELECT RAISE(ABORT, 'performer media links are append-only'); END;--> statement-breakpoint
CREATE TRIGGER `performer_media_append_only_delete` BEFORE DELETE ON `performer_media` BEGIN SELECT RAISE(ABORT, 'performer media links are append-only'); END;--> statement-breakpoint
CREATE TRIGGER `performer_records_no_early_delete` BEFORE DELETE ON `performer_records` WHEN OLD.retain_until_ms > CAST(unixepoch('subsec') * 1000 AS INTEGER) BEGIN SELECT RAISE(ABORT, 'a 2257 record cannot be deleted inside its retention period'); END;
