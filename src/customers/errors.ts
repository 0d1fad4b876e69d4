import type { ZodIssue } from 'zod';

export interface InputIssue {
  /** Path of the offending input field, e.g. `email` or `address.postalCode`. */
  field: string;
  message: string;
}

/**
 * Input the customer domain rejects. The GraphQL layer maps it to `extensions.code: BAD_USER_INPUT`
 * with `extensions.field`; `field` and `issues[0]` describe the first problem.
 */
export class CustomerInputError extends Error {
  readonly code = 'BAD_USER_INPUT';
  readonly field: string;
  readonly issues: InputIssue[];

  constructor(field: string, reason: string, issues?: InputIssue[]) {
    super(`${field} ${reason}`);
    this.name = 'CustomerInputError';
    this.field = field;
    this.issues = issues ?? [{ field, message: this.message }];
  }

  static fromZod(issues: readonly ZodIssue[]): CustomerInputError {
    const mapped = issues.map((issue) => {
      const field = issue.path.length > 0 ? issue.path.join('.') : 'input';
      return { field, reason: issue.message, message: `${field} ${issue.message}` };
    });
    const first = mapped[0] ?? { field: 'input', reason: 'is invalid', message: 'input is invalid' };
    return new CustomerInputError(
      first.field,
      first.reason,
      mapped.map(({ field, message }) => ({ field, message })),
    );
  }
}

/** Constraint violations the store can explain in terms of the input that caused them. */
const constraintFields: Record<string, [field: string, reason: string]> = {
  customers_external_id_format: ['externalId', 'has an invalid format'],
  customers_name_not_blank: ['name', 'must not be empty'],
  customers_email_format: ['email', 'must be a valid email address'],
  customers_country_format: ['address.country', 'must be an ISO 3166-1 alpha-2 code'],
  customers_address_complete: ['address', 'needs street, postalCode, city and country'],
  tariffs_name_key: ['name', 'is already the name of another tariff'],
  contracts_tariff_id_fkey: ['tariffId', 'does not refer to an existing tariff'],
  contracts_dates_check: ['endDate', 'must not be before startDate'],
};

/**
 * The CustomerInputError for a check, unique or foreign-key violation of a known constraint, or the
 * error itself. Errors are matched by shape, as PGlite's come from another module realm under jest.
 */
export function explainDatabaseError(error: unknown): unknown {
  const constraint = (error as { constraint?: unknown } | null)?.constraint;
  const known = typeof constraint === 'string' ? constraintFields[constraint] : undefined;
  return known ? new CustomerInputError(known[0], known[1]) : error;
}
