// The analysis that docs/benchmarks.md carries besides the numbers: why a target is missed and
// what would close it (by target id, see lib/targets.js; shown only for a missed target), and what
// the investigation found. Written by hand from the investigation; the numbers in `findings` come
// from the files in bench/results/before-after/.

const leftover =
  'What is left over the C loop (about 0.1 ms of 0.8 ms) is Node\'s path, not the kernel\'s: ' +
  '`perf trace -s` shows the same system calls in the child for both (61 `rt_sigaction`, 3 ' +
  '`dup3`, `close_range`, `execve`) and the same `clone3`, `waitid`, `epoll_ctl` in the parent. ' +
  'Timing each stage gives about +45 µs before `clone3` returns (N-API reads of the plan, the ' +
  'result object, `epoll_ctl`) and +55 µs from the exit to the `await` resuming (libuv\'s epoll, ' +
  'the addon\'s epoll, `waitid`, `napi_make_callback`, microtasks). On this shared 2-core VM the ' +
  'ratio moved between 1.14× and 1.33× from run to run: the target sits at the edge of the noise. ' +
  'What would widen the margin: a persistent Float64Array for exit batches instead of a new ' +
  'ArrayBuffer per batch, and the plan passed as one typed array instead of ~20 property reads ' +
  '(a few µs each); a quiet machine to measure on.';

/** target id -> cause of a miss, and what would close it. */
export const causes = {
  'register-startup':
    "The floor is above 3 ms: any `--import` of a package starts Node's ES module loader and its " +
    "reading of files (which `node -e 0` alone does not), and the registration must load Node's " +
    "`child_process` (net, dgram, the streams: 36 more built-in modules) to patch it before the " +
    "program's first line. Over that floor (an empty package imported plus Node's `child_process` " +
    "loaded), `--import pidfd/register` added 2.57 ms of CPU at a load of 2.3 (20 rounds, medians of " +
    "per-round differences; 4.83 ms at a load of 38), after its `NODE_DEBUG` module was made lazy " +
    '(three modules of the library at start-up, about 0.45 ms each whatever they hold, and ' +
    "`syncBuiltinESMExports()`, 0.2–0.4 ms, which syncs every built-in's ES facade). In this row's run " +
    'the whole-process figure moved with the load of its moment (1.6–5.9 at its start). What is left ' +
    "to cut lies in Node's loader and child_process, not in the library's modules.",
  'compat-spawn':
    "A quiet machine's figure (the 2.5× came from loaded runs, 2.3–2.8×): pidfd/child_process's " +
    "parent CPU per spawn + 'exit' is 4.0× below Node's (203 vs 807 µs in this run), but wall " +
    "time is mostly the child's start, the same for both (the parent waits for the child's " +
    "execve); on a quiet machine Node's extra CPU runs while a core would be idle, so its rate " +
    "loses less than its CPU says: the same as the sequential table's 2.49× for spawn(). The rate " +
    "follows the drop-in's own CPU over spawn()'s (the drop-in row above).",
  'compat-execfile':
    "As for spawn + 'exit' (the row above): the parent's CPU per execFile is 2.7× below Node's " +
    '(562 vs 1,510 µs in this run), the wall-time ratio a quiet machine\'s; execFile adds the ' +
    "capture of two pipes and the 'close' event, the same work on both sides.",
  'compat-footprint':
    'Within the noise: RSS per live ChildProcess is 0.40× Node\'s, and the JS heap figure per child ' +
    'ranged 1,227–1,389 bytes for the drop-in and 1,186–1,388 for Node\'s over the three fresh ' +
    'workers of each (the median of three decides the verdict). Each drop-in child carries the ' +
    "engine's Subprocess (its exit promise) where Node keeps a ProcessWrap whose state lives in C++ " +
    '(counted in RSS, where the drop-in is lower).',
  'run-capture-execa':
    'A wide spread, not a steady loss: pidfd\'s rounds went from 121 to 349 MiB/s (execa\'s 241–269), ' +
    "with less CPU than execa's (2.6 against 3.4 s per GiB). A 1 GiB capture lands in fresh " +
    'memory: with huge pages (`madvise(MADV_HUGEPAGE)` over the store) a round that reuses freed ' +
    "huge pages runs at 1.1–1.5 GiB/s, one that gets memory new to this VM pays its first touch in " +
    'system time, and one that gets no huge pages (the kernel found no free 2 MiB ranges: this run ' +
    'had just allocated 8 GiB twice in its memory sweep) faults every 4 KiB, as the C read loop ' +
    'does (123 MiB/s, 5.4 s of CPU). The THP run of 2026-12-02 (section "Capturing a gigabyte") ' +
    "gave 7.0× execa. Since this run a capture's pipe also grows to 1 MiB once a read finds it " +
    'full (the writer is ahead): 16 times fewer wake-ups of the writer (see the pipeline row). A ' +
    'run without the memory sweep before it, on a quiet machine, to measure.',
  'run-pipeline-execa':
    'A pipeline through one kernel pipe is bound by the pipe, and this process spends no CPU on the ' +
    "data (0.006 s per GiB against execa's 1.2 s). Since the pipe of a pipeline holds 1 MiB " +
    "(src/run/pipe-size.ts; a shell's holds 64 KiB, so `dd bs=1M` blocks 16 times per write) it moves " +
    "1,717 MiB/s here, 2.9× `sh -c 'a | b'` and 2.32× execa's .pipe() (the full run of the morning, " +
    'with 64 KiB: 709 MiB/s, 0.72×): on a quiet machine execa\'s .pipe(), Node between two pipes, runs ' +
    'on a core that would be idle, and its two pipes and stream buffers hold more in flight than one ' +
    '64 KiB pipe. 3× execa is reached where execa\'s CPU costs it wall time (a loaded machine); on a ' +
    'quiet one, what would widen the gap is a larger pipe still (pipe-max-size allows 1 MiB without ' +
    'privilege, and more with it).',
  'compat-fork':
    "The time is the forked Node's own start-up, the same program either way; the ratio moved " +
    "between 0.94× and 1.06× in two runs (per-round spread ±15%), and the parent's CPU for it is 3× " +
    'below Node\'s. Within the noise; a quiet machine to measure on.',
  'sequential-cpu':
    'A study of where the CPU goes (SPAWN-CPU.md: CPU time only, items interleaved in fresh processes, ' +
    'savings paired within rounds) found: the kernel\'s work of a spawn and its reap costs 29–31 µs of ' +
    'CPU from Node (clone3 16–18 µs; 22–25 µs from C), the process\'s size does not matter (RSS, ' +
    'threads, mappings; ~7 ns per open fd), and the whole exit path through the event loop costs ' +
    '4.4 µs alone and at most ~15 µs inside the loop. The floor of this design (one N-API call with no ' +
    'property reads, the uv_poll watcher, one promise per exit) measured 2.13× the C loop, warmed ' +
    'up; a spawn with a blocking wait that skips the event loop 1.80×; pidfd 3.08×. Three prototyped ' +
    'changes took 16.6 µs off warmed up and 25.2 µs cold (to ~2.3× and ~2.8×): the plan passed ' +
    'without property reads (integers and stdio in one off-heap Int32Array per environment: ' +
    '`napi_get_typedarray_info` on a small on-heap array allocates a backing store on every call), ' +
    'a fast path in `normalizeSpawn` for the common call, and a `PidFd` made on first use. 2.0× needs ' +
    'those and a leaner native path below the design\'s floor (per-spawn mallocs and the environ copy ' +
    'in `js_spawn`, ~4 µs; the delivery\'s handle scope and references, ~2 µs).',
  'sequential-cpu-cold':
    'Cold, V8 has not optimized the spawn path yet: cold minus warmed-up was 19.5 µs per spawn in ' +
    'the study, and between spawns 1,000 and 2,000 another ~24 µs per spawn ran on V8\'s compiler ' +
    'threads (counted in the process\'s CPU, not in the main thread\'s). The same three changes ' +
    'as the row above took 25.2 µs off cold (to ~2.8×); less JavaScript on the path is what moves ' +
    'this row.',
  'dropin-cpu':
    "What this row measures (spawns 2,000–2,300 of a fresh worker) is V8 still compiling the drop-in's " +
    "path: `--trace-opt` of 3,000 spawns shows TurboFan compiling 39 functions on the drop-in's path " +
    "against 16 on spawn()'s, most between spawns 1,250 and 2,000 (the library's small helpers and " +
    "Node's `ChildProcess.spawn`, `emit`, `once`, `nextTick`), on V8's background threads: the main " +
    "thread's own ratio is 1.29× here (the table's \"main thread\" column), and once compiled (4,000 " +
    "spawns of warm-up, 1,000 measured) the drop-in's CPU per spawn was 1.00× spawn()'s at a load of " +
    '18–25 and 1.07× at 2.4–3.3 (per-round ratios, fresh processes). The second round of cuts (a ' +
    'fast-mode option copy instead of a dictionary-mode one, argv without `unshift`, running handles ' +
    'in an array: see "The drop-in\'s own cost over spawn()" below) took the drop-in\'s own CPU to ' +
    '0.91× of the round before, paired, at a load of 0.5–3.2. What would close the window: fewer, ' +
    'larger functions on the path (less for V8 to compile), or a program where Node\'s code is hot already.',
  inflight:
    'With 64 in flight the throughput is set by the spawning thread\'s chain, not by the machine\'s ' +
    'CPU: in the quiet full run of 2026-12-07 (load 1.5–2) the C loop kept 1.71 CPUs busy and pidfd ' +
    '1.39 (CPU per spawn, parent\'s and children\'s, times spawns/s), so neither used the whole ' +
    'machine, and pidfd\'s main thread spent about what the C loop spends per spawn (74 vs 69 µs). ' +
    'Per spawn the thread sleeps once (1.000 voluntary context switches per spawn for both, ' +
    '/proc/thread-self/status): in clone3 until the child\'s execve (CLONE_VFORK, as posix_spawn ' +
    'does), and then waits to run again among the running children (schedstat\'s run delay); its ' +
    'own CPU is 5–15% of its time per spawn. Loaded (2026-12-07, load 13–17), per spawn: the C loop ' +
    '56–71 µs of CPU, 320–870 µs of run delay, 720–1,230 µs asleep; pidfd 67–84 µs (main thread), ' +
    '300–470 µs, 460–700 µs; each in a session of its own (setsid, load 20–29) pidfd reached ' +
    '0.94–1.28× the C loop\'s spawns/s (median ~1.02×, 4 pairs). So the ratio is set by how soon ' +
    'the scheduler runs the vfork child and then the parent again, and it moves with the load. ' +
    'The process minus main thread (19 µs per spawn in the quiet run) is mostly SIGCHLD: the ' +
    'spawning thread blocks every signal while it sleeps in clone3, so the SIGCHLD of each child ' +
    'that exits meanwhile (execve makes SIGCHLD the exit signal) is queued for the process and ' +
    'wakes one of V8\'s or libuv\'s idle worker threads to discard it (0.94 wake-ups per spawn). ' +
    'Leaving SIGCHLD unblocked there (clone3 with CLONE_CLEAR_SIGHAND) took those wake-ups to 0.02 ' +
    'and 10–19 µs off the process\'s CPU per spawn, but lowered the throughput: 0.56× and 0.64× ' +
    'the unchanged build\'s spawns/s in 9 of 9 pairs (load 24–52), the main thread\'s run delay ' +
    '+108–216 µs per spawn; the wake-ups act as scheduling points that get the spawning thread ' +
    'back onto a CPU sooner, and the change was not kept. What would close the row on a quiet ' +
    'machine is less time between an exit and the next clone3 returning: the vfork child and the ' +
    'parent scheduled sooner (a scheduler matter the C loop shares), and less main-thread work.',
  'sequential-c': leftover,
};

/** Markdown: the investigation and the changes made to the library. */
export const findings = `Tools: \`perf record -g\` with the \`cpu-clock\` event (this VM has no hardware counters:
\`perf stat -e instructions true\` says *not supported*) and \`node --perf-basic-prof\`; \`perf trace -s\`
and \`strace -c\` for system calls; \`node --cpu-prof\`; V8 heap snapshots diffed before and after
starting 500 children; timers around each stage of \`spawn()\`. Callgrind was not needed: the addon's
own code is under 1% of the samples (\`pidfd.node\` 0.66%); the time is in the kernel, V8 and the
child.

### Two library problems found, and fixed

**1. A spawn's environment cost more than the rest of its JavaScript.** With \`env\` unset,
\`normalizeSpawn\` serialized \`process.env\` on every spawn: 77 µs in a hot loop, 90–130 µs between
spawns, out of ~1 ms. \`process.env\` is an interceptor over the C environment: the \`for…in\` copies
the whole environment (\`uv_os_environ\`), and then \`hasOwnProperty\` and the read each call \`getenv\`
under Node's lock, per variable; on top, \`describe(key)\` (a \`JSON.stringify\`) was computed for every
key to name the option in an error that almost never happens. Fixes, in \`src/process/options.ts\`
and \`native/js_api.c\`:
- \`Object.keys\` (the same own enumerable keys) and the error's name built only on failure: for an
  explicit \`env\` and in Worker threads (77 → 33 µs for process.env).
- In the main thread with \`env\` unset, no serialization at all: the plan says \`nenv: -1\` and the
  addon copies the \`environ\` pointer array (in the main thread \`process.env\` *is* \`environ\`: every
  assignment is a \`setenv\`). A Worker's \`process.env\` is its own copy, so Workers still serialize.
  The test "without env the child inherits process.env as it is at spawn time" still passes.

**2. Every live Subprocess kept its spawn plan.** A heap-snapshot diff showed, per child, the
\`SubprocessInit\` object, its three stdio entries and array, and the addon's \`Int32Array\` +
\`ArrayBuffer\` of parent fds (with a 12-byte external backing store). The constructor's \`forEach\`
closure captured \`init\`, so V8 put \`init\` in the context shared by the long-lived closures (the
pidfd's close guard, the exit handler). A plain loop in \`src/process/subprocess.ts\` frees it:
1,957 → 1,331 bytes per child in the snapshot (a ChildProcess: 2,086, of which 224 native).

Before and after, same harness (\`--only=sequential,footprint\`, full settings), one run each,
back to back: [before](../bench/results/before-after/before-3ca6ab6.json),
[after](../bench/results/before-after/after.json).

| | before (main, 3ca6ab6) | after |
|---|---:|---:|
| sequential, pidfd spawns/s (median of rounds) | 817 | 993 |
| sequential, pidfd median latency | 0.951 ms | 0.821 ms |
| pidfd time ÷ C posix_spawn | 1.62× | 1.26× |
| pidfd speed-up vs child_process | 2.10× | 2.73× |
| RSS per live child (K = 1000), vs child_process | 6.88 KiB, 1.29× | 3.96 KiB, 0.73× |
| JS heap per live child, vs child_process | 1,828 B, 1.12× | 1,109 B, 0.68× |

### What the numbers say, and what was checked

- **Sequential, against C.** ${leftover}
- **Memory sweep.** The clone3 backend shares the parent's memory until \`execve\` (CLONE_VM |
  CLONE_VFORK), so latency does not move with the parent's size; every fork-based contender pays
  roughly 50 ms per GiB here (libuv forks the whole parent).
- **Reaping, all at once.** child_process's CPU per exit *falls* as K grows: simultaneous exits
  coalesce into few SIGCHLDs, and one sweep of \`waitpid\` over the live children serves many exits.
  It is one by one that libuv's sweep shows: every SIGCHLD costs a \`waitpid\` per live child, so the
  CPU per exit grows with K, as the design brief measured; pidfd's stays flat. All at once, the two
  cost about the same per exit (pidfd between 0.8× and 1.2× child_process's in these runs), and
  pidfd is 1.3–1.6× the C loop: per exit it still makes three system calls (\`waitid\`, \`epoll_ctl\`,
  \`close\`) like the C loop, plus a share of the JavaScript batch and one promise.
- **Reaping, one by one, pidfd against the C loop (2–2.5×).** A profile of the reaping window
  (K = 2000) puts 25% of the parent's CPU in the kernel's \`release_task\` (proc dcache invalidation,
  \`mmdrop\`; the C loop pays it too), 22% in \`napi_make_callback\` and the JavaScript batch handler
  (mostly at V8's baseline tier: one call per exit is not hot enough to optimize), 5% in
  \`napi_create_arraybuffer\` for the batch, and the rest in the nested epoll wake-up and libuv's loop.
  A persistent batch buffer would remove the allocation; the rest is the price of a JS callback.
- **SIGCHLD.** A pidfd child raises SIGCHLD after \`execve\` (exec resets the exit signal), so in a
  process that also uses child_process, libuv's handler runs and \`waitpid\`s its own children. With
  one child_process child alive, the CPU per exit of pidfd's reaping did not change measurably
  (25–36 µs all at once, 84–95 µs one by one, with and without).
- **Memory per child.** RSS per child also counts the heap growth from each contender's per-spawn
  garbage (child_process copies the environment into \`envPairs\` on every spawn), not only what a
  child keeps; the JS heap column is what survives a GC. Kernel memory (a pidfd's file and epoll
  item, the child's task) is not in the parent's RSS. execa keeps ~18 KB of JS objects per child
  (streams, listeners, promises).
- **Latency from the last exit, all at once.** With thousands of children exiting on two CPUs, the
  last child's timestamp can come before or after most of the reaping: that column (and its spread)
  says more about the scheduler than about notification; one by one it is 0.2–0.3 ms for pidfd,
  child_process and C alike.

### Before and after the restructuring (issue 11)

One start path for every layer (start, watch and wrap split; tables exported by the addon; one
validation module and one exit decoder) was checked with the sequential scenario, the library
before it (d63a21c, \`PIDFD_BENCH_LIB=<old checkout>/dist/index.js\`) and after it alternating,
two runs each, in one sitting (\`npm run bench -- --quick --only=sequential\`; raw files in
[bench/results/before-after/](../bench/results/before-after/), \`issue11-*.json\`). The machine was
shared at a load average of 11–15 on its 2 CPUs, so wall-clock rates (35–67 spawns/s for every
contender) say little; the parent's CPU per spawn is steadier:

| run | pidfd, parent CPU per spawn | C clone3 loop | C posix_spawn loop | child_process |
|---|---|---|---|---|
| before, 1 | 962 µs | 330 µs | 476 µs | 7,120 µs |
| after, 1 | 889 µs | 255 µs | 413 µs | 6,647 µs |
| before, 2 | 897 µs | 300 µs | 443 µs | 7,527 µs |
| after, 2 | 991 µs | 284 µs | 445 µs | 7,418 µs |

Before and after agree within the noise (930 vs 940 µs, mean of two; the runs of one library differ
by 7–11%). Against the C loops the library's CPU per spawn is 2.9–3.5× clone3's and about 2.1×
posix_spawn's (child_process: 15–26×): the goal of 1.3× the C loop's is not met, on this loaded
machine or at a load of 5 (363 vs 108 µs in an earlier pair of runs). The difference is the
JavaScript of a spawn (validation, the plan, the Subprocess and its exit promise), the same
leftover as in the targets above.

### The two exit watchers on Node: uv_poll and the thread

The thread watcher (Bun's and Deno's, \`PIDFD_WATCHER=thread\` on Node) against uv_poll (Node's
default), \`npm run bench -- --quick --only=sequential,reaping\` on Node 20 and 26, alternating, on
2026-12-02 at a load average of 3–5 before the runs (the reaping scenario's own thousand children
raise it); raw files in [bench/results/watchers/](../bench/results/watchers/). Reaping figures are
one round each (quick), so only large differences count:

| Node | watcher | sequential spawns/s | parent CPU per spawn, µs | CPU per exit, all at once, K = 250 / 1000, µs | CPU per exit, one by one, K = 250 / 1000, µs | last exit to resolved, one by one, ms |
|---|---|---:|---:|---:|---:|---:|
| 20 | uv_poll | 424 | 354 | 29 / 45 | 129 / 92 | 0.31 |
| 20 | thread | 376 | 566 | 37 / 50 | 204 / 185 | 1.01 |
| 26 | uv_poll | 423 | 376 | 67 / 55 | 145 / 106 | 0.37 |
| 26 | thread | 414 | 437 | 52 / 31 | 282 / 201 | 0.53 |
| 20 | uv_poll | 375 | 454 | 60 / 80 | 132 / 106 | 0.87 |
| 20 | thread | 351 | 636 | 50 / 44 | 197 / 200 | 0.54 |

Exits that come one at a time cost 1.5–2× the CPU with the thread (each is a wake-up of the
thread and a hop through the threadsafe function to the loop), and the sequential spawn's CPU is
higher with it in every pair; exits that come together, in batches, cost about the same. So
uv_poll stays Node's watcher, and the thread is used where there is no real libuv (Bun, Deno).

### Where a spawn's CPU goes (measured 2026-12-07)

The decomposition of 2026-12-02 (the next section) multiplied each share of a profile by a
per-spawn figure taken on a loaded machine, and its µs column does not hold. Measured directly
(CPU time of the thread and of the process, interleaved rounds, paired differences: the method of
the study in \`../shared/SPAWN-CPU.md\`, at a load of about 1.4):

| | parent CPU per spawn | × the C posix_spawn loop's |
|---|---:|---:|
| C posix_spawn loop | 21.6 µs | 1.00× |
| C making exactly the library's system calls (clone3, nested epoll, waitid, close), from a process shaped like Node | 25.5 µs | 1.14× |
| that plus one bare Node event-loop round trip (4.4 µs): the ideal floor | ≈30 µs | ≈1.35–1.40× |
| the floor of this design: one N-API call with no property reads, the uv_poll watcher, one promise per exit | 45.7 µs | 2.13× |
| a synchronous spawn and blocking wait, no event loop at all | 38.8 µs | 1.80× |
| pidfd before the changes below, warmed up (after 2,000 spawns) | 67.2 µs | 3.08× |

So: the kernel's clone3 costs 16–18 µs of thread CPU from Node (14 from C), not ~85; Node's own
work per exit is 4.4 µs as a whole path and at most ~15 µs inside the real loop, not 55–85; the
process's size (RSS, threads, mappings) does not matter, and an open fd costs ~7 ns. The 1.3×
target of DESIGN.md is below the ideal floor; even a spawn that skips the event loop is 1.80×.

What the library removed (2026-12-07): the plan passed without property reads (strings as
arguments; the integers and stdio triples in one off-heap Int32Array per environment, since
\`napi_get_typedarray_info\` on an on-heap array allocates a backing store per call), a fast path in
\`normalizeSpawn()\` for the common call, and a Subprocess's PidFd made on first use. Measured with
\`bench/compare.js\` (5 rounds, fresh workers, the two builds alternating; load 3.4–5.6): parent CPU
per spawn 183 → 141 µs warmed up (0.82×, per round 0.74–0.91×) and 226 → 167 µs cold (0.82×);
against the C loop of the same rounds 2.24× → 1.87× warmed up and 2.72× → 2.20× cold; 64 in
flight 1,031 → 1,144 spawns/s. What is left above this design's floor is a few µs warmed up and
V8's not-yet-optimized JavaScript cold.

### Where a spawn's CPU goes (issue 11, 2026-12-02: its µs column is corrected above)

\`perf record -g\` with \`node --perf-basic-prof\` of the parent's main thread during sequential
spawn-and-await of /bin/true (\`stdio: 'ignore'\`), shares of its samples, and what they come to at
the sequential scenario's quiet-machine figure (378 µs per spawn), before and after the cuts below:

| cost | share before | ≈ µs before | share after |
|---|---:|---:|---:|
| the library's JavaScript of spawn() (validation, plan, start, Subprocess), V8 reshaping objects built by spreads included | 28.2% | 107 | 20.9% |
| the kernel's clone3 (copy_process, the pidfd, the vfork wait) | 21.5% | 81 | 27.8% |
| the event loop outside the library (libuv's poll, epoll_pwait, page faults, GC) | 15.5% | 59 | 17.5% |
| the addon's spawn (the plan's property reads, the result, epoll_ctl) | 10.9% | 41 | 8.8% |
| napi_make_callback and the microtask checkpoint | 6.5% | 25 | 9.9% |
| the exit, native side (drain, waitid, epoll_ctl, close) | 6.2% | 23 | 4.5% |
| the exit, JavaScript side (the batch, the status) | 5.5% | 21 | 3.4% |
| other (the benchmark's loop, unattributed) | 5.7% | 21 | 7.3% |

\`strace -c\`: 11.9 system calls per spawn before, 10.9 after (a \`getpid\` made only for a
parent-death signal now); the rest are needed (clone3, two rt_sigprocmask, epoll_ctl ADD and DEL,
epoll_wait, waitid, close, and Node's own epoll_pwait, one of them a zero-timeout poll of its
idle-time measurement). The cuts (merged 2026-12-02): no object spreads on the start path; PATH
read only for a file that is looked up; property keys made once per environment in the addon;
the started child returned in an Int32Array the environment reuses, and exit batches in one reused
Float64Array per watcher; exit handlers in an array by fd instead of a Map; no argument array built
for spawn(file, args, options); Subprocess's PidFd with one owner object, and no catch() attached
to every exit promise. Both builds loaded in one process, alternating chunks of 25 spawns, 1,500
spawns each, on a machine at a load of 5–20: 975/890/948 µs before vs 802/702/744 µs after (−18%,
−21%, −22%); the quick sequential scenario alternating the two builds six times: median 764 vs 663
µs, 1.93× vs 1.64× the C posix_spawn loop's in the same runs. V8 optimizes the spawn path only
after 500–2,000 spawns: in a short run the library's JavaScript runs mostly unoptimized, so what
counts is how much of it runs per spawn.

### Capturing a gigabyte: page faults, and huge pages

The first full-size run of the capture scenario (1 GiB, 5 rounds, 2026-12-02 05:48 at a load of
about 1: [run-1gib-20261202-054850.json](../bench/results/run-1gib-20261202-054850.json)) missed the
goal of 2× execa's throughput: 153 vs 90.8 MiB/s (1.68×; C read loop 123 MiB/s), the capturing
process busy the whole time (6.3 s of CPU per GiB). \`perf record -g\` of a 512 MiB capture: 47% of
the samples in \`memmove\` copying reads into the store, and 29% in the page-fault path under that
copy: a fault per 4 KiB of fresh memory, which on this VM is the cost of a capture (touching 1 GiB
with 4 KiB pages takes 4.4 s here, with huge pages 2.2–3.5 s). The store past 1 MiB is a resizable
ArrayBuffer whose whole reservation V8 maps at once; the capture now asks for transparent huge pages
over it (\`madvise(MADV_HUGEPAGE)\`, the kernel's THP mode here being *madvise*). The same capture
then takes 0.25 s of user CPU instead of 2.5–4 s, and the scenario's run
([capture-thp-20261202-060403.json](../bench/results/capture-thp-20261202-060403.json)) gives
449 MiB/s, 7.0× execa's and 6.3× the C loop's (which uses 4 KiB pages; a C loop that asked for huge
pages would do the same). The spread is wide (174–1,002 MiB/s): a round that gets memory new to the
VM still pays its first touch in system time (3–4 s), one that reuses freed huge pages runs at
1.1–1.5 GiB/s.

### A child's stdio: socketpair or kernel pipe (issue 17)

Node's \`child_process\` gives a child UNIX socketpairs for its pipes (libuv's \`uv_spawn\`), and so
does \`pidfd/child_process\`; pidfd's own \`spawn()\` and \`run()\` give kernel pipes on fds 0–2. The
question was whether the socketpairs cost anything. The compat-stdio scenario (section 8) moves
1 GiB through a child's stdout and then through its stdin; its "own end" rows spawn the same way
and read or write with the same \`net.Socket\`, only \`socketpair()\` or \`pipe2()\` differing. Two runs a
minute apart on 2026-12-07 (load average 10.7 and 8.3 at their starts, falling from about 25;
[compat-stdio-20261207-044256.json](../bench/results/compat-stdio-20261207-044256.json) and the one
in the table):

| 1 GiB, own end | socketpair: MiB/s, CPU here / child, s | kernel pipe: MiB/s, CPU here / child, s |
|---|---:|---:|
| stdout, run 1 | 1,682, 0.37 / 0.19 | 1,594, 0.38 / 0.21 |
| stdout, run 2 | 1,506, 0.42 / 0.19 | 1,309, 0.46 / 0.22 |
| stdin, run 1 | 4,520, 0.11 / 0.11 | 2,448, 0.20 / 0.19 |
| stdin, run 2 | 2,596, 0.13 / 0.13 | 1,916, 0.22 / 0.19 |

The socketpair costs nothing: reading a child's stdout it is as fast as the pipe or a little faster
(1.06× and 1.15×; 3–9% less CPU in this process, 10–14% less in the child), and writing a child's
stdin it needs 30–45% less CPU on each side (1.36–1.85× the throughput). A socketpair's send buffer is 208 KiB here
(\`net.core.wmem_default\`) against a pipe's 64 KiB, so fewer 1 MiB writes wait for the reader;
that is the likely cause, not profiled. A first run at a load of 17–25 gave the same order with a
wider spread. So the drop-in keeps socketpairs, as Node (why it must: [compat.md](compat.md#a-childs-pipes-are-socketpairs)).
\`spawn()\`'s kernel pipes (the last row of each table) read a stdout at the pipe's speed and write a
stdin at about 0.56–0.77× child_process's: a cost of the shell's semantics that \`spawn()\` and
\`run()\` keep on purpose; a larger pipe (\`F_SETPIPE_SZ\`) could narrow it, not tried.

### The sequential scenario on other kernels, and what \`autoReap\` costs (issue 23)

\`npm run bench:kernels\` (\`bench/kernels.js\`; kernels as arguments, 7.2 by default) runs the
sequential scenario with four contenders (pidfd's \`spawn()\`, the same with \`autoReap: true\`,
child_process, the C posix_spawn loop) on this machine's kernel and in the kernel matrix's QEMU
guests (\`test/kernels/vm.sh\`). A guest runs under software emulation (TCG: about 50 ms per spawn
of /bin/true, against 0.8 ms here), so only ratios say anything, and a guest's N is small (300 in
3 rounds, about 100 s). Ratios are per round (the contenders alternate within a round), median
of the rounds; CPU is the spawning process's own per spawn (the C loop's: its server's). Two runs
of 2026-12-07 on this 2-core machine, shared with a CI run (this machine's load average at their
start and end):

| where (kernel), N | \`autoReap\` | pidfd ÷ C: wall / CPU | pidfd autoReap ÷ C | child_process ÷ C | autoReap ÷ pidfd | load |
|---|---|---|---|---|---|---|
| here (6.18), 2000 in 10 rounds | ignored | 1.05× / 2.33× | 1.14× / 2.71× | 2.42× / 12.71× | 1.01× / 1.16× | 0.5 → 0.6 |
| QEMU, 7.2.13, 300 in 3 rounds | CLONE_AUTOREAP | 0.94× / 1.44× | 1.49× / 2.47× | 1.38× / 3.72× | 1.29× / 1.71× | 0.6 → 2.9 |
| QEMU, 6.1.0, 300 in 3 rounds | ignored | 0.72× / 1.13× | 0.79× / 1.41× | 0.95× / 2.48× | 1.11× / 1.25× | 2.9 → 3.3 |
| here (6.18), 2000 in 10 rounds | ignored | 1.18× / 2.63× | 1.24× / 2.81× | 2.96× / 13.67× | 1.06× / 1.07× | 2.5 → 2.5 |
| QEMU, 7.2.13, 600 in 6 rounds | CLONE_AUTOREAP | 1.12× / 1.63× | 1.28× / 1.94× | 1.50× / 3.26× | 1.16× / 1.20× | 2.5 → 4.1 |

Raw results: [bench/results/kernels-20261207-053313.json](../bench/results/kernels-20261207-053313.json)
(rows 1–3) and [bench/results/kernels-20261207-053757.json](../bench/results/kernels-20261207-053757.json)
(rows 4–5). A first run (N = 300 here too, its file not kept) gave autoReap ÷ pidfd 1.02× wall,
0.90× CPU on 7.2 and 1.01× / 1.02× on 6.1.

What they say, and what they do not. Under emulation every contender's CPU comes closer to the C
loop's than here (pidfd 1.1–1.6× against 2.3–2.6×): the guest's time is dominated by the emulated
kernel and exec, which all contenders share, not by Node. On 7.2 an auto-reaped spawn (the
kernel reaps the child; its status comes from \`PIDFD_GET_INFO\` after \`waitid\` says ECHILD,
\`native/exit.c\`) cost 0.90× to 1.71× the CPU of a plain one (\`waitid\` with rusage) in three runs,
and 1.02× to 1.29× the wall time; on 6.1 and here, where the option is ignored and both
contenders do the same work, the same ratio moved between 1.01× and 1.25×. So the cost of
\`autoReap\` is within the noise of these runs: at most a few tens of percent of a spawn's parent
CPU under emulation, possibly nothing. Resolving it needs a 7.1+ kernel on real hardware (or
\`PIDFDVM_ACCEL=kvm\` on a host with real KVM) and larger N; the extra wake-up \`native/exit.c\`
allows for (an auto-reaped child's pidfd is readable a moment before its status is) is the first
thing to look at there.


### The drop-in's own cost over spawn() (issue 22, item 4)

The target: \`pidfd/child_process\`'s \`spawn('/bin/true', { stdio: 'ignore' })\` + \`'exit'\` within
1.3× of \`spawn()\`'s parent CPU per spawn, warmed up. The drop-in runs Node's own
\`ChildProcess.prototype.spawn()\` (getValidStdio, the \`'spawn'\` tick, the EventEmitter) over
\`ProcessHandle\`, so part of its cost is Node's and stays. \`strace -c -f\` of 1,000 spawns of each:
the same system calls, the same counts; the difference is all user-space CPU on the main thread
(\`perf record -t\` on it, 6 s of a warmed-up loop: about 70 µs per spawn more than \`spawn()\` at a
load of 5–8, mostly in \`node\` itself: ICs on dictionary-mode option objects, baseline code, Node's
ChildProcess work).

Found and cut (2026-12-07):
- **An Array subclass kept the argument normalization unoptimized.** The envPairs that mean
  "this process's environment" were an \`InheritedEnv extends Array\`; V8 aborted every attempt to
  optimize its constructor and \`normalizeSpawnArguments()\`, which inlines it ("dependency change":
  an unstable map), so that function ran as baseline code on every spawn. A plain array marked with
  a symbol does the same job: its share on the main thread went from 15.3 to 7.3 µs per spawn.
- **A copied argv deoptimized \`start()\`.** \`args.map(String)\` made an array of another elements
  kind than the first spawns' once \`nodeChildSpec()\` was optimized: \`start()\` deoptimized (wrong map
  in \`nulList\`) and stayed baseline code. Node's args are used as they are when they are all
  strings already.
- No array per spawn for the stdio: \`'ignore'\` on fds 0–2 is one frozen entry per fd, and the
  Pipes to open are an array only when the child has a pipe; no \`flushStdio\` tick for a child
  without streams.

Node's \`ChildProcess.spawn()\` (with getValidStdio inlined) costs about 6 µs of the main thread per
spawn, the exit's routing (\`routeExit\`, the status object, \`onChildExit\`, two emits) about 5 µs,
the normalization about 3–7 µs; each of the rest is below 2 µs. What is left between the two is
mostly Node's ChildProcess itself and V8's generic paths on the null-prototype option objects that
Node's semantics ask for (\`{ __proto__: null, ...options }\` is a dictionary-mode object: every
read of it in Node's code is a generic IC; a fast-mode copy through \`Object.create(null)\` +
\`Object.assign\` is half the cost in a micro-benchmark: done in the second round below). Figures from
a machine at a load of 5–18 are within ±10% per run; the before/after table is in the closing note
of issue 22.

**Second round (2026-12-07, branch \`dropin-cpu\`).** First, the comparison itself: \`bench/compare.js\`
runs both with \`stdio: 'ignore'\` (no stream on either side) and waits for one promise of the exit
(\`subprocess.exited\`; a promise made from \`'exit'\`/\`'error'\` for the drop-in, as its users write
it), so it compares like with like. With Node's default stdio (three pipes; three \`net.Socket\`s in
the drop-in, three of the library's pipe streams in \`spawn()\`) the drop-in until \`'close'\` against
\`spawn({ stdio: 'pipe' })\` until \`exited\` is given below. Then the profile: \`perf record
--no-inherit\` (the main thread) with \`--perf-basic-prof\`, a loop of 1,500 + 8,000 spawns of each,
samples per spawn compared symbol by symbol. Of the difference, the generic inline-cache builtins
(\`LoadIC\`, \`StoreIC\`, \`KeyedLoadIC\`, their megamorphic forms) were the largest part: 27 µs per
spawn in the drop-in against 6.8 in \`spawn()\` (profiled figures, about 2.5× the unprofiled ones),
from optimized code reading the dictionary-mode option copy (the drop-in's \`spawn\`,
\`normalizeSpawnArguments\`, Node's \`ChildProcess.prototype.spawn\`). Cut, without a change of
behaviour (Node's own tests 67/67, execa's \`terminate\`, \`return\`, \`resolve\` folders 639/639 swapped):
- The option copy is \`Object.assign(Object.create(noInheritance), options)\`, where \`noInheritance\`
  is a frozen object with no property and a null prototype: a key the caller did not give still
  reads undefined whatever \`Object.prototype\` holds, getters run once in order as in a spread, and
  the copy keeps fast properties. (\`Object.setPrototypeOf({ ...options }, …)\` keeps them too, but
  cost 30 µs a call in a micro-benchmark.) The IC builtins fell to 11.7 µs per spawn (profiled).
- argv is a new array instead of \`argv.unshift(file)\`, which V8 runs in its C++ runtime.
- The running handles are an array indexed by pidfd, as the exit watcher's handlers are, instead of
  a Map that went from one entry to none at every exit (\`MapShrink\`, \`Rehash\` in the profile).

Parent CPU per spawn, drop-in over \`spawn()\` of the same build, each figure a fresh process,
builds and modes rotating, per-round ratios (medians; min–max); A = main at daba590, B = this round:

| warm-up, measured | load | A process | A main thread | B process | B main thread |
|---|---|---:|---:|---:|---:|
| 4,000, 1,000 (6 rounds) | 18–25 | 1.24× (0.91–1.36) | 1.23× | **1.00×** (0.94–1.31) | **1.00×** |
| 3,000, 2,000 (6 rounds) | 21–30 | 1.32× (1.12–1.63) | 1.29× | **1.11×** (1.02–1.16) | **1.10×** |
| 1,500, 300 (6 rounds; compare.js's window) | 20–25 | 2.24× (1.57–2.39) | 1.56× | 2.00× (1.75–2.55) | 1.38× |
| \`bench/compare.js --rounds=5\`: warm (after 1,500), 300 | 20–46 | 1.89× (1.64–2.15) | 1.33× | 1.70× (1.64–2.11) | 1.33× |
| \`bench/compare.js --rounds=5\`: cold (after 20), 200 | 20–46 | 1.69× (1.09–1.92) | | 1.56× (1.26–2.58) | |
| 4,000, 1,000 (4 rounds) | 2.4–3.3 | 1.02× (0.92–1.46) | 1.01× | 1.07× (0.83–1.28) | 1.06× |
| \`bench/compare.js --rounds=5\`: warm (after 1,500), 300 | 0.5–3.2 | 1.79× (1.47–3.95) | 1.29× | 1.72× (1.67–1.97) | 1.29× |
| \`bench/compare.js --rounds=5\`: cold (after 20), 200 | 0.5–3.2 | 1.44× (1.16–1.87) | 1.39× | 1.35× (1.12–1.67) | 1.38× |

In the quieter run the drop-in's own CPU per spawn, B over A paired in \`compare.js\`, was 0.91×
warmed (0.55–0.98: lower in every round) and 0.93× cold; in steady state at that load both builds
are within 1.0–1.1× of \`spawn()\`, and the four rounds did not tell them apart (±25% per round).

So the drop-in is within 1.3× of \`spawn()\` once V8 has compiled it, and within 1.0–1.1× in steady
state; what the 1,500-spawn window of \`compare.js\` shows is compilation. \`--trace-opt\` of 3,000
drop-in spawns: TurboFan compiles 39 functions on the drop-in's path against 16 on \`spawn()\`'s, most
of them between spawns 1,250 and 2,000 (the library's small helpers, which V8 optimizes only after
thousands of calls when no optimized caller has inlined them, and Node's \`ChildProcess.spawn\`,
\`emit\`, \`once\`, \`nextTick\`, \`processTicksAndRejections\` for the \`'spawn'\` tick). That compilation
runs on V8's background threads: in the window, the process's CPU is 226 µs per spawn and its main
thread's 157 (\`spawn()\`: 124 and 118) at a load of 20–46, 262 and 168 (\`spawn()\`: 152 and 140) at
0.5–3.2, where the drop-in's window costs more than its cold start (227). It is paid once per process; what would shorten it is fewer,
larger functions on the path, or Node's own code already hot in the program.

With the default stdio (what a user of \`spawn(file, args)\` gets), the drop-in until \`'close'\`
against \`spawn({ stdio: 'pipe' })\` until \`exited\`, 3,000 warm-up and 1,000 measured, 4 rounds at a
load of 20–25: A 1.19× (1.12–1.28; 357 vs 300 µs), B **1.11×** (0.92–1.33; 328 vs 295 µs), main
thread 1.18× → 1.12×. The three \`net.Socket\`s and the \`'close'\` after their end are Node's
ChildProcess; they stay.

\`--import pidfd/register\`: it loaded four modules of the library at start-up, now three (the
\`NODE_DEBUG=pidfd\` module is loaded with the first line written). Main-thread CPU of importing it
in one process once Node's \`child_process\` and a first package are loaded, medians of 21 rotating
runs at a load of about 20: an empty package 2.3 ms, A 4.9 ms, B 4.5 ms; a package of four empty
modules costs 1.4 ms more than one of one, so each module is about 0.45 ms here, whatever it holds.
At a load of about 2 (31 runs): an empty package 2.3 ms, four empty modules 4.0, A 5.8, B 5.1.
The scenario (\`npm run bench -- --only=register-startup\`, 20 rounds) with B: at a load of 38,
17.6 ms of CPU over \`node -e 0\` and 4.83 ms over the floor of any \`--import\` registration (an
empty package plus Node's \`child_process\`); at a load of 2.3, 10.1 ms and **2.57 ms** (medians of
the per-round differences). The 3 ms over \`node -e 0\` cannot be met by the library: the floor is
above it. What is left of
pidfd's own: three module loads (\`exports.js\` must be one module shared with
\`pidfd/child_process\`, for the identity of the functions; the engine choice holds per-process
state), \`syncBuiltinESMExports()\` (0.2–0.4 ms: Node syncs every built-in's ES module facade, not
one), and the forwarding functions.`;
