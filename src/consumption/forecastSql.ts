/** $1 the month's first day (YYYY-MM-01), $2 the IANA time zone: the month's bounds as instants. */
export const MONTH_BOUNDS_SQL = `
SELECT to_char(($1::date)::timestamp AT TIME ZONE $2 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS start,
       to_char(($1::date + INTERVAL '1 month')::timestamp AT TIME ZONE $2 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "end"`;

/**
 * The cost of projected hours: $1 the customer's externalId, $2 the hours' starts, $3 their energy in
 * Wh (text, exact to mWh), $4 the IANA time zone. Priced like CONSUMPTION_SQL: by the contract in force
 * on each hour's local date, in numeric, half up to cents once; null unless every hour has one.
 */
export const FORECAST_COST_SQL = `
WITH hours AS (
  SELECT hour_start, wh, (hour_start AT TIME ZONE $4)::date AS local_date
  FROM unnest($2::timestamptz[], $3::numeric[]) AS hour (hour_start, wh)
),
priced AS (
  SELECT hours.wh, tariff.energy_price_ct_per_kwh
  FROM hours
  LEFT JOIN LATERAL (
    SELECT t.energy_price_ct_per_kwh
    FROM customers customer
    JOIN contracts contract ON contract.customer_id = customer.id
    JOIN tariffs t ON t.id = contract.tariff_id
    WHERE customer.external_id = $1 AND contract.status <> 'cancelled'
      AND contract.start_date <= hours.local_date AND (contract.end_date IS NULL OR contract.end_date >= hours.local_date)
    LIMIT 1
  ) tariff ON true
)
SELECT CASE WHEN bool_and(energy_price_ct_per_kwh IS NOT NULL)
            THEN round(sum(wh * energy_price_ct_per_kwh) / 100000, 2)::float8 END AS cost
FROM priced`;
