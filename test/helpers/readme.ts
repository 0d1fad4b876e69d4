import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every variable named in the first column of the configuration table (docs/configuration.md). */
export function documentedVariables(): Set<string> {
  const readme = readFileSync(join(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');
  const names = new Set<string>();
  for (const row of readme.matchAll(/^\| (`[A-Z0-9_]+`(?: \/ `[A-Z0-9_]+`)*) \|/gm)) {
    for (const name of row[1].matchAll(/`([A-Z0-9_]+)`/g)) names.add(name[1]);
  }
  return names;
}
