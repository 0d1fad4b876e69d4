-- Customers of the energy provider, the tariffs it sells and the supply contracts between them.
-- customers.external_id is the externalId the provider gave the IOmeter installation.

CREATE TABLE customers (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  external_id text NOT NULL,
  name text NOT NULL,
  email text,
  phone text,
  -- Postal address: either all four columns are set or none is.
  street text,
  postal_code text,
  city text,
  country text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT customers_external_id_key UNIQUE (external_id),
  CONSTRAINT customers_external_id_format CHECK (external_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  CONSTRAINT customers_name_not_blank CHECK (btrim(name) <> ''),
  CONSTRAINT customers_email_format CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  CONSTRAINT customers_country_format CHECK (country ~ '^[A-Z]{2}$'),
  CONSTRAINT customers_address_complete CHECK (
    (street IS NULL AND postal_code IS NULL AND city IS NULL AND country IS NULL)
    OR (street IS NOT NULL AND postal_code IS NOT NULL AND city IS NOT NULL AND country IS NOT NULL)
  )
);

-- Keyset pagination orders by (name, id).
CREATE INDEX customers_name_id_idx ON customers (name, id);

CREATE TABLE tariffs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  energy_price_ct_per_kwh numeric(10, 4) NOT NULL,
  base_price_eur_per_month numeric(10, 2) NOT NULL,
  feed_in_ct_per_kwh numeric(10, 4) NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tariffs_name_key UNIQUE (name),
  CONSTRAINT tariffs_name_not_blank CHECK (btrim(name) <> ''),
  CONSTRAINT tariffs_energy_price_non_negative CHECK (energy_price_ct_per_kwh >= 0),
  CONSTRAINT tariffs_base_price_non_negative CHECK (base_price_eur_per_month >= 0),
  CONSTRAINT tariffs_feed_in_non_negative CHECK (feed_in_ct_per_kwh >= 0)
);

CREATE TABLE contracts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  customer_id uuid NOT NULL CONSTRAINT contracts_customer_id_fkey REFERENCES customers (id),
  tariff_id uuid NOT NULL CONSTRAINT contracts_tariff_id_fkey REFERENCES tariffs (id),
  start_date date NOT NULL,
  end_date date, -- NULL: open-ended
  status text NOT NULL DEFAULT 'pending',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT contracts_status_check CHECK (status IN ('pending', 'active', 'ended', 'cancelled')),
  CONSTRAINT contracts_dates_check CHECK (end_date >= start_date),
  CONSTRAINT contracts_ended_has_end_date CHECK (status <> 'ended' OR end_date IS NOT NULL)
);

-- At most one active contract per customer, also under concurrent writes.
CREATE UNIQUE INDEX contracts_one_active_per_customer ON contracts (customer_id) WHERE status = 'active';
CREATE INDEX contracts_customer_id_idx ON contracts (customer_id);
CREATE INDEX contracts_tariff_id_idx ON contracts (tariff_id);
