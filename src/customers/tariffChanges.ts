import type { Queryable } from '../database';
import { CustomerInputError } from './errors';
import { TARIFF_COLUMNS, toTariff, type TariffRow } from './rows';
import type { Change, Tariff } from './types';
import type { ValidTariffInput } from './validation';

const PRICES = ['energyPriceCtPerKwh', 'basePriceEurPerMonth', 'feedInCtPerKwh'] as const;

/**
 * Creates or changes a tariff, in the caller's transaction: the one with `id`, else the one with this
 * name. A tariff that prices a contract keeps its prices (a contract's past is never repriced): a new
 * price is a new tariff, and a new contract from the day it applies. Its name may change.
 */
export async function writeTariff(tx: Queryable, input: ValidTariffInput): Promise<Change<Tariff>> {
  const { rows } = input.id
    ? await tx.query<TariffRow>(`SELECT ${TARIFF_COLUMNS} FROM tariffs WHERE id = $1 FOR UPDATE`, [input.id])
    : await tx.query<TariffRow>(`SELECT ${TARIFF_COLUMNS} FROM tariffs WHERE name = $1 FOR UPDATE`, [input.name]);
  const before = rows[0] ? toTariff(rows[0]) : null;
  if (input.id && !before) throw new CustomerInputError('id', 'does not refer to an existing tariff');

  const values = [input.name, input.energyPriceCtPerKwh, input.basePriceEurPerMonth, input.feedInCtPerKwh];
  if (!before) {
    const inserted = await tx.query<TariffRow>(
      `INSERT INTO tariffs (name, energy_price_ct_per_kwh, base_price_eur_per_month, feed_in_ct_per_kwh)
       VALUES ($1, $2, $3, $4) RETURNING ${TARIFF_COLUMNS}`,
      values,
    );
    return { before, after: toTariff(inserted.rows[0]!) };
  }

  const changedPrice = PRICES.find((price) => before[price] !== input[price]);
  if (!changedPrice && before.name === input.name) return { before, after: before };
  if (changedPrice) await refuseIfPricing(tx, before, changedPrice);
  const updated = await tx.query<TariffRow>(
    `UPDATE tariffs SET name = $1, energy_price_ct_per_kwh = $2, base_price_eur_per_month = $3,
       feed_in_ct_per_kwh = $4, updated_at = now()
     WHERE id = $5 RETURNING ${TARIFF_COLUMNS}`,
    [...values, before.id],
  );
  return { before, after: toTariff(updated.rows[0]!) };
}

/** Contract writes lock the tariff row FOR SHARE, so no contract can start using it while this runs. */
async function refuseIfPricing(tx: Queryable, tariff: Tariff, price: (typeof PRICES)[number]): Promise<void> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT id FROM contracts WHERE tariff_id = $1 AND status <> 'cancelled' ORDER BY start_date LIMIT 1`,
    [tariff.id],
  );
  const contract = rows[0];
  if (!contract) return;
  throw new CustomerInputError(
    price,
    `cannot change: tariff ${tariff.id} ("${tariff.name}") prices contract ${contract.id}, whose past must not be repriced; ` +
      'create a new tariff and a new contract from the day the price applies',
  );
}
