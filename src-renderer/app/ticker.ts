import { useSyncExternalStore } from 'react';

// DESIGN.md "Processes and boundaries": countdowns keep no timers of their own, and STYLE.md
// "The screens": one shared ticker drives them all. It runs only while something listens.
const TICK_MS = 250;
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | undefined;
let now = Date.now();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (!timer) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
      for (const l of listeners) l();
    }, TICK_MS);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

function snapshot(): number {
  return now;
}

/** The renderer's wall clock, advanced by the one shared ticker. */
export function useNow(): number {
  return useSyncExternalStore(subscribe, snapshot);
}
