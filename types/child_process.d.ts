// The types of pidfd/child_process: exactly those of node:child_process, from the consumer's own
// @types/node (this file declares nothing of its own), so that a program type-checks after
// swapping `node:child_process` for `pidfd/child_process` as it did before, with whatever
// version of @types/node it uses. The default export is the module, as `import cp from
// 'node:child_process'` gives it.

/// <reference types="node" />

import * as childProcess from 'node:child_process';

export * from 'node:child_process';
export default childProcess;
