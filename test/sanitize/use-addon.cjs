// Preloaded with `node --require` (through NODE_OPTIONS, so every node the tests start, workers
// included, gets it): loads the addon named by PIDFD_TEST_ADDON wherever the library asks for
// build/Release/pidfd.node. The library itself is not changed for the sanitizer runs.
'use strict';

const path = require('node:path');

const replacement = process.env.PIDFD_TEST_ADDON;
if (replacement) {
  const wanted = path.join('build', 'Release', 'pidfd.node');
  const dlopen = process.dlopen;
  process.dlopen = function dlopenInstrumented(module, filename, ...rest) {
    const target = filename.endsWith(path.sep + wanted) ? replacement : filename;
    return dlopen.call(this, module, target, ...rest);
  };
}
