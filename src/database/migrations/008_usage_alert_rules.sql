-- A customer's usage alert rules (issue 19 §2): one row per customer, a null column is a rule not set.
CREATE TABLE usage_alert_rules (
  customer_id uuid PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
  power_above_w double precision CHECK (power_above_w > 0),
  daily_energy_above_kwh double precision CHECK (daily_energy_above_kwh > 0),
  no_reading_for_minutes integer CHECK (no_reading_for_minutes BETWEEN 1 AND 10080),
  updated_at timestamptz NOT NULL DEFAULT now()
);
