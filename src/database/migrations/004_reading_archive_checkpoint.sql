-- How far the archive is complete: the newest receive time of any committed ingest batch. Every
-- batch advances it in the batch's own transaction, so after a crash the gateway resumes (and
-- backfills from IOmeter's provider.readings) exactly from what is durably stored. One row; a
-- max(receive_time) over the partitioned table would scan a day or more of readings instead.
CREATE TABLE reading_archive_checkpoint (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  receive_time timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
