-- While IOmeter is unreachable, a customer's consumption falls back to the installation the archive
-- last saw under their externalId (newest reading first, one row). Without this index that lookup
-- would scan every partition's rows; with it, each partition answers from the index, newest first.
CREATE INDEX reading_archive_external_time_idx ON reading_archive (external_id, reading_time);
