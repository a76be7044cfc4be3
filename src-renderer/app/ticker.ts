import { useSyncExternalStore } from 'react';

/*
 * The one shared ticker (STYLE.md "The screens": one shared ticker drives every countdown). It
 * runs only while something counts down, and every countdown on screen moves on the same beat.
 * Deadlines live with whoever shows them, never in a store (DESIGN.md "src-renderer").
 */
const TICK_MS = 1000;
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | undefined;
let beat = 0;

function tick(): void {
  beat++;
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  timer ??= setInterval(tick, TICK_MS);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

function idle(): () => void {
  return () => undefined;
}

function currentBeat(): number {
  return beat;
}

/**
 * Whole seconds left until `deadline` (milliseconds on this renderer's clock), or 0 when there is
 * none. The component re-renders on each beat only while a deadline is set. The beat only
 * triggers the render; the time itself is read then, so the first frame is already right.
 */
export function useSecondsLeft(deadline: number | null): number {
  useSyncExternalStore(deadline === null ? idle : subscribe, currentBeat);
  if (deadline === null) return 0;
  return Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
}

/** `m:ss`, for waits measured in minutes. */
export function formatMinutes(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${String(seconds % 60).padStart(2, '0')}`;
}
