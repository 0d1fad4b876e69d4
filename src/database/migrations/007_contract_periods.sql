-- Contracts become periods managed through the graph (issue 19 §1). A customer's contracts other
-- than cancelled ones never overlap; the customer store enforces that under the customer's row lock,
-- which also means at most one contract is in force on any day. So the stored status now only says
-- whether a contract was cancelled: pending, active and ended follow from its dates and today
-- (src/customers/rows.ts), and a contract prices consumption on every day it covers. The index that
-- allowed one 'active' row per customer would refuse a period that is merely recorded as 'active'.
DROP INDEX contracts_one_active_per_customer;
UPDATE contracts SET status = 'active' WHERE status IN ('pending', 'ended');

-- A customer's contracts newest first (Customer.contracts), and the overlap check.
DROP INDEX contracts_customer_id_idx;
CREATE INDEX contracts_customer_start_idx ON contracts (customer_id, start_date DESC);
