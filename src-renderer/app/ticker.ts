import { useSyncExternalStore } from 'react';

/*
 * The one shared ticker (STYLE.md "The screens": one shared ticker drives every countdown;
 * DESIGN.md "src-renderer": countdowns keep no timers of their own). It runs only while something
 * listens, and every countdown on screen moves on the same beat. A quarter second keeps a
 * whole-second display from lagging its deadline by most of a second.
 */
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

function idle(): () => void {
  return () => undefined;
}

/** The renderer's wall clock, advanced by the one shared ticker. */
export function useNow(): number {
  return useSyncExternalStore(subscribe, snapshot);
}

/**
 * Whole seconds left until `deadline` (milliseconds on this renderer's clock), or 0 when there is
 * none. The component follows the ticker only while a deadline is set.
 */
export function useSecondsLeft(deadline: number | null): number {
  useSyncExternalStore(deadline === null ? idle : subscribe, snapshot);
  if (deadline === null) return 0;
  return Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
}

/** `m:ss`, for waits measured in minutes. */
export function formatMinutes(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${String(seconds % 60).padStart(2, '0')}`;
}
