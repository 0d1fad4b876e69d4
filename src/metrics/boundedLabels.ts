/** Label of every value past the series cap or the length bound. */
export const OTHER_LABEL = 'other';

/** Label of a value the request did not carry. */
export const NONE_LABEL = 'none';

export interface BoundedLabelsOptions {
  /** Values that are always their own label and do not count against the cap. */
  fixed: ReadonlyArray<string>;
  maxSeries: number;
  maxLength: number;
}

/**
 * The values one label of a registry may take. Every distinct value is a series per metric, kept until
 * the process ends, and clients choose the values (operation names, client names), so the set is
 * bounded: the first `maxSeries` values keep their own series, later and over-long ones share `other`.
 */
export class BoundedLabels {
  private readonly fixed: ReadonlySet<string>;
  private readonly seen = new Set<string>();

  constructor(private readonly options: BoundedLabelsOptions) {
    this.fixed = new Set([...options.fixed, OTHER_LABEL, NONE_LABEL]);
  }

  label(value: string | undefined): string {
    if (value === undefined) return NONE_LABEL;
    if (this.fixed.has(value) || this.seen.has(value)) return value;
    if (value.length > this.options.maxLength || this.seen.size >= this.options.maxSeries) return OTHER_LABEL;
    this.seen.add(value);
    return value;
  }
}
