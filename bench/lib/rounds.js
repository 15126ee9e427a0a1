// Alternation: every contender runs a share of the work in every round, in a rotated order, so
// that a noisy neighbour or a thermal drift hits all of them alike.

import { log } from './log.js';

/**
 * Runs `rounds` rounds. In round r the contenders start at index r (mod their count), and each
 * gets `await step(contender, round)`; `label` names the rounds in the progress log. Returns
 * nothing: steps record their own samples.
 */
export async function alternate(contenders, rounds, step, label) {
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < contenders.length; i++) {
      await step(contenders[(r + i) % contenders.length], r);
    }
    if (label) log(`${label}: round ${r + 1}/${rounds} done`);
  }
}

/** Splits n into `rounds` shares whose sum is n (the first shares get the remainder). */
export function shares(n, rounds) {
  const base = Math.floor(n / rounds);
  return Array.from({ length: rounds }, (_, r) => base + (r < n % rounds ? 1 : 0));
}
