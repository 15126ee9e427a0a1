// Test hooks: fault injection and native probes for the test suite. Not part of the public API;
// nothing here is needed, or safe, in production.

import { binding, ChildStep, Fault, ParentStep, type NativeBinding } from '../binding.js';

export { kTestFault } from './symbols.js';
export { observeBatches } from '../process/exits.js';
export { Fault, ChildStep, ParentStep };

/** The addon itself, for tests that check the kernel's view (zombies, fd flags, masks). */
export function native(): NativeBinding {
  return binding();
}
