import { iometerScalars } from '../src/iometer/scalars';

/** The gateway validates IOmeter scalars itself, so bad input never costs an upstream request. */
export const resolvers = { ...iometerScalars };
