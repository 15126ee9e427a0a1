// A fresh Node process for one scenario (or one memory level): the orchestrator starts it as
//   node bench/lib/worker.js <scenario> <params-json> <result-file>
// and reads the JSON the scenario's run(params) returns from <result-file>.

import { writeFileSync } from 'node:fs';

const [scenario, paramsJson, resultFile] = process.argv.slice(2);
const { run } = await import(`../scenarios/${scenario}.js`);
const result = await run(JSON.parse(paramsJson));
writeFileSync(resultFile, JSON.stringify(result));
// Comparator libraries may keep handles (signal-exit listeners and the like): do not wait.
process.exit(0);
