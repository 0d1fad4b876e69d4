-- Readings summed per meter and 15-minute UTC slot, so consumption reads ≈3,000 rows per meter and
-- month instead of every raw reading. Kept exact by a trigger on reading_archive for every writer.
--
-- A slot's energy is the increases between its own consecutive readings (stored here) plus the
-- increase from the same meter's previous reading, i.e. the previous slot's last reading; the query
-- takes that from the row before (first_* minus the earlier row's last_*). Every IANA offset is a
-- multiple of 15 minutes, so a slot never straddles a local hour or day.
CREATE TABLE reading_rollup (
  installation_id text NOT NULL,
  meter_id text NOT NULL,
  slot_start timestamptz NOT NULL,
  first_time timestamptz NOT NULL,
  last_time timestamptz NOT NULL,
  -- Registers of the slot's first and last reading (null when that reading had none).
  first_imported_wh double precision,
  first_exported_wh double precision,
  last_imported_wh double precision,
  last_exported_wh double precision,
  -- Sum of the positive deltas between consecutive readings inside the slot. Null only inside the
  -- trigger, between marking a slot whose readings arrived interleaved and recounting it.
  imported_increase_wh double precision,
  exported_increase_wh double precision,
  power_sum_w double precision NOT NULL,
  power_count integer NOT NULL,
  peak_power_w double precision,
  readings integer NOT NULL,
  -- Installation first: one installation's range is one index range, in slot order.
  PRIMARY KEY (installation_id, slot_start, meter_id)
) WITH (fillfactor = 80); -- room for in-page (HOT) updates while a slot fills

-- Retention deletes by age; rows arrive roughly in time order, which is what BRIN summarises.
CREATE INDEX reading_rollup_slot_start_brin ON reading_rollup USING brin (slot_start);

-- The archive's readings of one installation in [range_start, range_end) as rollup rows. Inlined
-- into the caller, so a filter on meter_id reaches the scan.
CREATE FUNCTION reading_archive_slots(installation text, range_start timestamptz, range_end timestamptz)
RETURNS SETOF reading_rollup LANGUAGE sql STABLE AS $$
  SELECT installation_id, meter_id, slot_start, min(reading_time), max(reading_time),
         (array_agg(imported_wh ORDER BY reading_time))[1], (array_agg(exported_wh ORDER BY reading_time))[1],
         (array_agg(imported_wh ORDER BY reading_time DESC))[1], (array_agg(exported_wh ORDER BY reading_time DESC))[1],
         coalesce(sum(imported_delta) FILTER (WHERE imported_delta > 0), 0),
         coalesce(sum(exported_delta) FILTER (WHERE exported_delta > 0), 0),
         coalesce(sum(power_w), 0), count(power_w)::integer, max(power_w), count(*)::integer
  FROM (
    SELECT installation_id, meter_id, reading_time, imported_wh, exported_wh, power_w,
           date_bin('15 minutes', reading_time, TIMESTAMPTZ '2000-01-01 00:00:00Z') AS slot_start,
           imported_wh - lag(imported_wh) OVER slot AS imported_delta,
           exported_wh - lag(exported_wh) OVER slot AS exported_delta
    FROM reading_archive
    WHERE installation_id = installation AND reading_time >= range_start AND reading_time < range_end
    WINDOW slot AS (PARTITION BY meter_id, date_bin('15 minutes', reading_time, TIMESTAMPTZ '2000-01-01 00:00:00Z')
                    ORDER BY reading_time)
  ) deltas
  GROUP BY installation_id, meter_id, slot_start
$$;

-- Recounts the given slots from the archive. Merging a batch into a slot is exact when the batch lies
-- wholly after or before the slot's readings; a reading landing between them changes its
-- neighbours' deltas, which only the archive knows.
CREATE FUNCTION reading_rollup_recount(installations text[], meters text[], slots timestamptz[])
RETURNS void LANGUAGE sql AS $$
  UPDATE reading_rollup target
  SET imported_increase_wh = counted.imported_increase_wh, exported_increase_wh = counted.exported_increase_wh
  FROM unnest(installations, meters, slots) AS slot (installation_id, meter_id, slot_start)
  CROSS JOIN LATERAL reading_archive_slots(slot.installation_id, slot.slot_start, slot.slot_start + INTERVAL '15 minutes') counted
  WHERE counted.meter_id = slot.meter_id
    AND target.installation_id = slot.installation_id AND target.meter_id = slot.meter_id
    AND target.slot_start = slot.slot_start
$$;

-- Statement-level with a transition table: one merge per INSERT or COPY, whatever the writer. Rows
-- that ON CONFLICT DO NOTHING skipped are not in `inserted`, so repeats change nothing.
-- Rows must be written through reading_archive, not into a partition directly (a partition's
-- writes do not fire the parent's statement triggers). The archive only appends and drops whole
-- days, so UPDATE and DELETE are not rolled up. The batch is aggregated as in reading_archive_slots,
-- over the transition table: a function cannot take a relation, and reading the batch back from
-- the archive would cost an index probe per reading.
CREATE FUNCTION reading_rollup_merge_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  interleaved_installations text[];
  interleaved_meters text[];
  interleaved_slots timestamptz[];
BEGIN
  WITH batch AS (
    SELECT installation_id, meter_id, reading_time, imported_wh, exported_wh, power_w,
           date_bin('15 minutes', reading_time, TIMESTAMPTZ '2000-01-01 00:00:00Z') AS slot_start,
           imported_wh - lag(imported_wh) OVER slot AS imported_delta,
           exported_wh - lag(exported_wh) OVER slot AS exported_delta
    FROM inserted
    WINDOW slot AS (PARTITION BY installation_id, meter_id, date_bin('15 minutes', reading_time, TIMESTAMPTZ '2000-01-01 00:00:00Z')
                    ORDER BY reading_time)
  ),
  merged AS (
    INSERT INTO reading_rollup AS slot
    SELECT installation_id, meter_id, slot_start, min(reading_time), max(reading_time),
           (array_agg(imported_wh ORDER BY reading_time))[1], (array_agg(exported_wh ORDER BY reading_time))[1],
           (array_agg(imported_wh ORDER BY reading_time DESC))[1], (array_agg(exported_wh ORDER BY reading_time DESC))[1],
           coalesce(sum(imported_delta) FILTER (WHERE imported_delta > 0), 0),
           coalesce(sum(exported_delta) FILTER (WHERE exported_delta > 0), 0),
           coalesce(sum(power_w), 0), count(power_w), max(power_w), count(*)
    FROM batch
    GROUP BY installation_id, meter_id, slot_start
    ON CONFLICT (installation_id, slot_start, meter_id) DO UPDATE SET
      first_time = least(slot.first_time, excluded.first_time),
      last_time = greatest(slot.last_time, excluded.last_time),
      first_imported_wh = CASE WHEN excluded.first_time < slot.first_time THEN excluded.first_imported_wh ELSE slot.first_imported_wh END,
      first_exported_wh = CASE WHEN excluded.first_time < slot.first_time THEN excluded.first_exported_wh ELSE slot.first_exported_wh END,
      last_imported_wh = CASE WHEN excluded.last_time > slot.last_time THEN excluded.last_imported_wh ELSE slot.last_imported_wh END,
      last_exported_wh = CASE WHEN excluded.last_time > slot.last_time THEN excluded.last_exported_wh ELSE slot.last_exported_wh END,
      -- greatest() ignores a null delta, like the query: a missing register adds nothing.
      imported_increase_wh = slot.imported_increase_wh + excluded.imported_increase_wh + CASE
        WHEN excluded.first_time > slot.last_time THEN greatest(excluded.first_imported_wh - slot.last_imported_wh, 0)
        WHEN excluded.last_time < slot.first_time THEN greatest(slot.first_imported_wh - excluded.last_imported_wh, 0) END,
      exported_increase_wh = slot.exported_increase_wh + excluded.exported_increase_wh + CASE
        WHEN excluded.first_time > slot.last_time THEN greatest(excluded.first_exported_wh - slot.last_exported_wh, 0)
        WHEN excluded.last_time < slot.first_time THEN greatest(slot.first_exported_wh - excluded.last_exported_wh, 0) END,
      power_sum_w = slot.power_sum_w + excluded.power_sum_w,
      power_count = slot.power_count + excluded.power_count,
      peak_power_w = greatest(slot.peak_power_w, excluded.peak_power_w),
      readings = slot.readings + excluded.readings
    RETURNING installation_id, meter_id, slot_start, imported_increase_wh IS NULL AS interleaved
  )
  SELECT array_agg(installation_id), array_agg(meter_id), array_agg(slot_start)
  INTO interleaved_installations, interleaved_meters, interleaved_slots
  FROM merged WHERE interleaved;

  -- A statement of its own, so under READ COMMITTED its snapshot includes the archive rows of any
  -- writer whose merge into these slots the upsert above waited for.
  IF interleaved_slots IS NOT NULL THEN
    PERFORM reading_rollup_recount(interleaved_installations, interleaved_meters, interleaved_slots);
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER reading_archive_rollup AFTER INSERT ON reading_archive
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION reading_rollup_merge_inserted();

-- For retention: after dropping the archive's partitions before `cutoff`, drop their slots too (the
-- consumption query needs the archive for range edges and the reading before `from`, so the rollup
-- must not outlive it). Returns how many slots it deleted.
CREATE FUNCTION reading_rollup_delete_before(cutoff timestamptz) RETURNS bigint LANGUAGE sql AS $$
  WITH deleted AS (DELETE FROM reading_rollup WHERE slot_start + INTERVAL '15 minutes' <= cutoff RETURNING 1)
  SELECT count(*) FROM deleted
$$;

-- Readings archived before this migration.
INSERT INTO reading_rollup
SELECT counted.*
FROM (SELECT DISTINCT installation_id FROM reading_archive) archived
CROSS JOIN LATERAL reading_archive_slots(archived.installation_id, '-infinity', 'infinity') counted;
