// The Node contenders, all loaded at once, for the scenarios that alternate them inside one
// process (reaping, the memory sweep, the footprint). Their definitions are in lib/spawners.js;
// the sequential and in-flight scenarios load one contender per worker from there.

import { cContenders, loadContender, nodeLoaders, optionalLoaders } from './spawners.js';

export { cContenders };

const loadAll = async (loaders) => Object.fromEntries(await Promise.all(Object.keys(loaders).map(async (name) => [name, await loadContender(name)])));

/** name -> start(file, args) returning { handle, done }: the live object and its exit. */
export const nodeContenders = await loadAll(nodeLoaders);

/** Contenders a scenario runs only when asked (see lib/spawners.js). */
export const optionalContenders = await loadAll(optionalLoaders);

/** Spawns file and waits for its exit with the named Node contender. */
export function spawnAndWait(name, file, args = []) {
  return (nodeContenders[name] ?? optionalContenders[name])(file, args).done;
}
