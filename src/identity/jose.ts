import type * as Jose from 'jose' with { 'resolution-mode': 'import' };

/**
 * jose 6 ships only as an ES module. Node (>= 20.19) can `require()` it, but this project compiles to
 * CommonJS with `module: node16`, where TypeScript refuses a value import of an ES module, and Jest's
 * own module registry cannot load ES modules at all. So jose is loaded once, here, through Node's real
 * `require` (fetched with `process.getBuiltinModule`, which Jest does not intercept); the rest of the
 * identity code imports `jose` from this file and stays fully typed.
 *
 * If the Jest config ever transforms jose (`transformIgnorePatterns: ['/node_modules/(?!jose/)']` with
 * `allowJs`), or tsconfig moves to `module: node20`/`nodenext`, this shim can become a plain import.
 */
function loadJose(): typeof Jose {
  if (typeof process.getBuiltinModule !== 'function') {
    throw new Error(`The identity module needs Node.js >= 20.19 to load jose (running ${process.version}).`);
  }
  const { createRequire } = process.getBuiltinModule('node:module');
  return createRequire(__filename)('jose') as typeof Jose;
}

export const jose = loadJose();
