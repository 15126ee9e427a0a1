// Symbols shared between the library and its test hooks (never part of the public API).

/** A spawn() option key for the test build's fault injection: `{ kind, arg }`. */
export const kTestFault = Symbol('pidfd.testFault');
