/** Slots are aligned to this instant, as in migration 005. */
const SLOT_ORIGIN = "TIMESTAMPTZ '2000-01-01 00:00:00Z'";
/**
 * [WHOLE_SLOTS_START, WHOLE_SLOTS_END): the slots wholly inside [from, to), empty when the range is
 * shorter than a slot. Written out, not in a CTE, so the planner folds them and prunes partitions.
 */
const WHOLE_SLOTS_START = `(date_bin('15 minutes', $2::timestamptz - INTERVAL '1 microsecond', ${SLOT_ORIGIN}) + INTERVAL '15 minutes')`;
const WHOLE_SLOTS_END = `date_bin('15 minutes', $3::timestamptz, ${SLOT_ORIGIN})`;

/*
 * The consumption query. Parameters: $1 installation id, $2 from, $3 to, $4 IANA time zone,
 * $5 bucket unit ('hour' | 'day' | 'month'), $6 the externalId whose contracts price the energy (or null).
 *
 * - Energy is the sum of positive deltas between consecutive readings of the SAME meter, attributed
 *   to the later reading. A meter change starts a new series (no delta across meters); a negative
 *   delta (counter reset) counts nothing. After a gap, the reading that closes it carries the whole
 *   gap's energy, so energy is never lost, it lands in that reading's bucket.
 * - It is computed per 15-minute UTC slot (every IANA offset is a multiple of 15 minutes, so a slot
 *   never straddles a local hour or day) from reading_rollup (migration 005): a slot's energy is the
 *   increases inside it plus the increase from the meter's previous slot row to its first reading.
 *   A range edge that cuts a slot is summed from the raw readings on that side of the edge instead.
 * - The first slot of each meter in range is compared with that meter's last reading before `from`
 *   (a lazy scalar subquery: it runs once per meter, not per row).
 * - Empty slots are generated too, so buckets without readings appear with zero energy; only the
 *   slots are converted to local time.
 * - A slot is priced by the tariff of the customer's contract in force on the slot's local date
 *   (not cancelled, start_date <= date <= end_date). Energy is rounded to mWh per slot and
 *   priced in numeric: cost in EUR = Wh × ct/kWh / 100000, rounded half up to cents once per bucket.
 */
export const CONSUMPTION_SQL = `
WITH slot_rows AS (
  SELECT * FROM reading_rollup
  WHERE installation_id = $1 AND slot_start >= ${WHOLE_SLOTS_START} AND slot_start < ${WHOLE_SLOTS_END}
  UNION ALL
  SELECT * FROM reading_archive_slots($1, $2::timestamptz, least(${WHOLE_SLOTS_START}, $3::timestamptz))
  UNION ALL
  SELECT * FROM reading_archive_slots($1, greatest(${WHOLE_SLOTS_START}, ${WHOLE_SLOTS_END}), $3::timestamptz)
),
chained AS (
  SELECT *,
         lag(slot_start) OVER per_meter AS previous_slot,
         lag(last_imported_wh) OVER per_meter AS previous_imported_wh,
         lag(last_exported_wh) OVER per_meter AS previous_exported_wh
  FROM slot_rows
  WINDOW per_meter AS (PARTITION BY meter_id ORDER BY slot_start)
),
energy AS (
  SELECT slot_start, power_sum_w, power_count, peak_power_w, readings,
         -- greatest() ignores a null delta: no earlier reading, or a register missing, adds nothing.
         imported_increase_wh + greatest(first_imported_wh - CASE WHEN previous_slot IS NOT NULL THEN previous_imported_wh ELSE (
           SELECT before.imported_wh FROM reading_archive before
           WHERE before.meter_id = chained.meter_id AND before.reading_time < $2::timestamptz
           ORDER BY before.reading_time DESC LIMIT 1) END, 0) AS imported_wh,
         exported_increase_wh + greatest(first_exported_wh - CASE WHEN previous_slot IS NOT NULL THEN previous_exported_wh ELSE (
           SELECT before.exported_wh FROM reading_archive before
           WHERE before.meter_id = chained.meter_id AND before.reading_time < $2::timestamptz
           ORDER BY before.reading_time DESC LIMIT 1) END, 0) AS exported_wh
  FROM chained
),
filled_slots AS (
  SELECT slot_start AS slot,
         sum(imported_wh) AS imported_wh,
         sum(exported_wh) AS exported_wh,
         sum(power_sum_w) AS power_sum,
         sum(power_count) AS power_count,
         max(peak_power_w) AS peak_power_w,
         sum(readings) AS readings
  FROM energy
  GROUP BY 1
),
slots AS (
  SELECT slot, date_trunc($5, slot, $4) AS bucket, (slot AT TIME ZONE $4)::date AS local_date
  FROM generate_series(
    date_bin('15 minutes', $2::timestamptz, ${SLOT_ORIGIN}),
    $3::timestamptz - INTERVAL '1 microsecond',
    INTERVAL '15 minutes') AS slot
),
tariff_periods AS (
  SELECT contract.start_date, contract.end_date, tariff.energy_price_ct_per_kwh, tariff.feed_in_ct_per_kwh
  FROM customers customer
  JOIN contracts contract ON contract.customer_id = customer.id
  JOIN tariffs tariff ON tariff.id = contract.tariff_id
  WHERE customer.external_id = $6 AND contract.status <> 'cancelled'
),
priced AS (
  SELECT slots.bucket,
         round(coalesce(filled.imported_wh, 0)::numeric, 3) AS imported_wh,
         round(coalesce(filled.exported_wh, 0)::numeric, 3) AS exported_wh,
         filled.power_sum, filled.power_count, filled.peak_power_w,
         coalesce(filled.readings, 0) AS readings,
         tariff.energy_price_ct_per_kwh, tariff.feed_in_ct_per_kwh
  FROM slots
  LEFT JOIN filled_slots filled ON filled.slot = slots.slot
  LEFT JOIN LATERAL (
    SELECT period.energy_price_ct_per_kwh, period.feed_in_ct_per_kwh FROM tariff_periods period
    WHERE period.start_date <= slots.local_date AND (period.end_date IS NULL OR period.end_date >= slots.local_date)
    ORDER BY period.start_date DESC
    LIMIT 1
  ) tariff ON true
)
SELECT to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS start,
       to_char(CASE WHEN $5 = 'hour' THEN bucket + INTERVAL '1 hour'
                    ELSE ((bucket AT TIME ZONE $4) + ('1 ' || $5)::interval) AT TIME ZONE $4 END
               AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "end",
       sum(imported_wh)::float8 AS imported_wh,
       sum(exported_wh)::float8 AS exported_wh,
       (sum(power_sum) / nullif(sum(power_count), 0))::float8 AS average_power_w,
       max(peak_power_w)::float8 AS peak_power_w,
       sum(readings)::int AS readings,
       CASE WHEN bool_and(energy_price_ct_per_kwh IS NOT NULL)
            THEN round(sum(imported_wh * energy_price_ct_per_kwh) / 100000, 2)::float8 END AS cost,
       CASE WHEN bool_and(feed_in_ct_per_kwh IS NOT NULL)
            THEN round(sum(exported_wh * feed_in_ct_per_kwh) / 100000, 2)::float8 END AS feed_in_credit
FROM priced
GROUP BY bucket
ORDER BY bucket`;

/**
 * One page of an installation's archived readings in (time, meter) order; $4/$5 is the cursor. Times
 * are text with microseconds, so a cursor is exact; the aliases must not shadow the columns that
 * ORDER BY means (ordering by the text would sort every row in range instead of reading the index).
 */
export const READING_HISTORY_SQL = `
SELECT meter_id, meter_number,
       to_char(reading_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS time_text,
       to_char(receive_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS receive_time_text,
       imported_wh, exported_wh, power_w, reading_values
FROM reading_archive
WHERE installation_id = $1 AND reading_time >= $2::timestamptz AND reading_time < $3::timestamptz
  AND ($4::timestamptz IS NULL OR (reading_time, meter_id) > ($4::timestamptz, $5::text))
ORDER BY reading_time, meter_id
LIMIT $6`;

/**
 * The installation of the newest archived reading under an externalId ($1). Partitions are read
 * newest first through reading_archive_external_time_idx (migration 006), stopping at the first row.
 */
export const LATEST_ARCHIVED_INSTALLATION_SQL = `
SELECT installation_id
FROM reading_archive
WHERE external_id = $1
ORDER BY reading_time DESC
LIMIT 1`;
