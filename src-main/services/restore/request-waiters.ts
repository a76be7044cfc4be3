interface Waiter {
  deadline: number;
  resolve: () => void;
}

/**
 * Long-poll waiters keyed by request id (issue #5: hundreds of waiting requesters must not cost
 * a thread or a timer each). A waiter is a deadline and a resolve function in a map: a change
 * wakes the waiters of its id, and the composition root's one shared tick calls `sweep` to
 * release those whose deadline passed on the injected clock.
 */
export class RequestWaiters {
  readonly #byId = new Map<string, Set<Waiter>>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Resolves when `wake(id)` is called or the deadline passes; `cancel` releases it early. */
  wait(id: string, deadline: number): { promise: Promise<void>; cancel: () => void } {
    let waiter: Waiter | undefined;
    const promise = new Promise<void>((resolve) => {
      waiter = { deadline, resolve };
    });
    const w = waiter as Waiter;
    const set = this.#byId.get(id) ?? new Set<Waiter>();
    this.#byId.set(id, set);
    set.add(w);
    this.#size += 1;
    return { promise, cancel: () => this.#release(id, w) };
  }

  wake(id: string): void {
    const set = this.#byId.get(id);
    if (!set) return;
    for (const waiter of [...set]) this.#release(id, waiter);
  }

  wakeAll(): void {
    for (const id of [...this.#byId.keys()]) this.wake(id);
  }

  /** Releases every waiter whose deadline is at or before `now`. */
  sweep(now: number): void {
    for (const [id, set] of [...this.#byId]) {
      for (const waiter of [...set]) if (waiter.deadline <= now) this.#release(id, waiter);
    }
  }

  ids(): string[] {
    return [...this.#byId.keys()];
  }

  #release(id: string, waiter: Waiter): void {
    const set = this.#byId.get(id);
    if (!set?.delete(waiter)) return;
    this.#size -= 1;
    if (set.size === 0) this.#byId.delete(id);
    waiter.resolve();
  }
}
