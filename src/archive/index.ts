/** The reading archive; everything outside src/archive/ imports from here. */
export { ReadingArchive, type ReadingArchiveOptions } from './archive';
export { ArchiveWriter, type ArchiveWriterOptions } from './writer';
export { toArchiveRow, type ArchiveRow } from './rows';
export { dropExpiredPartitions } from './retention';
