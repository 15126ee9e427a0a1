// normalizeLaunch() (src/run/launch.ts): `pidfd run`'s entry into run(). run()'s options are
// checked as run() checks them, and the command line's own settings are checked too: nothing
// reaches a RunProcess around the checks.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { normalizeLaunch } from '../../dist/run/launch.js';

const DAY = 24 * 3600 * 1000;

/** normalizeLaunch for `true` with these settings over sensible ones. */
const launch = (settings, options = {}) => normalizeLaunch('true', [], options, { timeout: 0, forceKillAfterDelay: false, launch: {}, ...settings });

describe('normalizeLaunch', () => {
  test('takes durations beyond a Node timer, and false for no SIGKILL at all', () => {
    const n = launch({ timeout: 25 * DAY, forceKillAfterDelay: 30 * DAY });
    assert.equal(n.timeout, 25 * DAY);
    assert.equal(n.forceKillAfterDelay, 30 * DAY);
    assert.equal(launch({ timeout: 1.5 }).timeout, 1.5, 'a command line may say 1.5ms');
    assert.equal(launch({ forceKillAfterDelay: false }).forceKillAfterDelay, -1);
  });

  test('keeps the launch it was given, checked', () => {
    const onStart = () => {};
    const n = launch({ launch: { reach: 'leader', cgroupPath: '/sys/fs/cgroup/x', backend: 'fork', waitForTree: true, onStart } });
    assert.deepEqual(n.launch, { reach: 'leader', cgroupPath: '/sys/fs/cgroup/x', backend: 'fork', waitForTree: true, onStart });
    assert.deepEqual(launch({ launch: { cgroupPath: undefined } }).launch, {});
  });

  test('refuses bad settings before anything starts, in Node\'s dialect', () => {
    assert.throws(() => launch({ timeout: -1 }), { code: 'ERR_OUT_OF_RANGE', name: 'RangeError', message: /`timeout` option/ });
    assert.throws(() => launch({ timeout: NaN }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => launch({ timeout: '10s' }), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => launch({ forceKillAfterDelay: true }), { code: 'ERR_INVALID_ARG_TYPE', message: /`forceKillAfterDelay`/ });
    assert.throws(() => launch({ forceKillAfterDelay: Infinity }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => launch({ launch: { reach: 'everyone' } }), { code: 'ERR_INVALID_ARG_VALUE', message: /launch\.reach/ });
    assert.throws(() => launch({ launch: { backend: 'vfork' } }), { code: 'ERR_INVALID_ARG_VALUE', message: /launch\.backend.*'clone3', 'clone', 'fork'/ });
    assert.throws(() => launch({ launch: { waitForTree: 1 } }), { code: 'ERR_INVALID_ARG_TYPE', message: /launch\.waitForTree/ });
    assert.throws(() => launch({ launch: { onStart: 'tree' } }), { code: 'ERR_INVALID_ARG_TYPE', message: /launch\.onStart/ });
    assert.throws(() => launch({ launch: { detached: true } }), { code: 'ERR_INVALID_ARG_VALUE', message: /`launch\.detached`/ });
    assert.throws(() => launch({ launch: null }), { code: 'ERR_INVALID_ARG_TYPE' });
  });

  test('checks run()\'s options as run() does', () => {
    assert.throws(() => launch({}, { killSignal: 'SIGNOPE' }), { code: 'ERR_UNKNOWN_SIGNAL' });
    assert.throws(() => launch({}, { detached: true }), { code: 'ERR_INVALID_ARG_VALUE', message: /not supported by run\(\)/ });
    assert.equal(launch({}, { killSignal: 'SIGINT' }).killSignal, 2);
  });
});
