-- Readings kept beyond IOmeter's 24 hours. One row per (meter, reading time): the upstream's
-- repeats and replays land on the primary key and are ignored, so ingest is idempotent.
-- Energy registers are normalised to Wh and power to W at ingest; reading_values keeps the
-- reading's values as received, for history.

CREATE TABLE reading_archive (
  meter_id text NOT NULL,
  meter_number text NOT NULL,
  installation_id text NOT NULL,
  -- The installation's externalId when the reading was received (the customer link); may be null.
  external_id text,
  reading_time timestamptz NOT NULL,
  receive_time timestamptz NOT NULL,
  -- Cumulative registers 1-0:1.8.0 (import) and 1-0:2.8.0 (export), and 1-0:16.7.0 (power).
  imported_wh double precision,
  exported_wh double precision,
  power_w double precision,
  -- [{"obisCode": "1-0:1.8.0", "value": 1234.5, "unit": "Wh"}, ...]
  reading_values jsonb NOT NULL,
  PRIMARY KEY (meter_id, reading_time)
) PARTITION BY RANGE (reading_time);

-- History and consumption read one installation over a time range.
CREATE INDEX reading_archive_installation_time_idx ON reading_archive (installation_id, reading_time);

-- One partition per UTC day, created ahead of ingest; retention drops whole partitions.
-- Returns how many partitions it created.
CREATE FUNCTION reading_archive_ensure_partitions(range_start timestamptz, range_end timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  day date := (range_start AT TIME ZONE 'UTC')::date;
  last_day date := (range_end AT TIME ZONE 'UTC')::date;
  partition_name text;
  created integer := 0;
BEGIN
  WHILE day <= last_day LOOP
    partition_name := 'reading_archive_p' || to_char(day, 'YYYYMMDD');
    IF to_regclass(partition_name) IS NULL THEN
      EXECUTE format(
        'CREATE TABLE %I PARTITION OF reading_archive FOR VALUES FROM (%L) TO (%L)',
        partition_name,
        (day::timestamp AT TIME ZONE 'UTC'),
        ((day + 1)::timestamp AT TIME ZONE 'UTC')
      );
      created := created + 1;
    END IF;
    day := day + 1;
  END LOOP;
  RETURN created;
END;
$$;
