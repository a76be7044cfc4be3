import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type RefObject } from 'react';

/*
 * A windowed list (issue 13, item 8: the Approvals screen with 1,000 pending requests): only the
 * rows in view, plus `overscan` rows either side, are in the DOM. Rows may differ in height: each
 * rendered row is measured (ResizeObserver) and remembered by key; rows never rendered count at
 * `estimate`. The rows above and below the window are stood in for by the list's own padding,
 * set through the CSSOM: the CSP (`style-src 'self'`) refuses style attributes, not CSSOM writes.
 *
 * The list scrolls with its nearest scrolling ancestor (the pane), not a box of its own, so the
 * screen keeps one scrollbar. A row holding the focus stays rendered wherever the pane scrolls,
 * so a dialog opened from it, or a keyboard user's place, is never unmounted under them.
 */
export interface VirtualWindow {
  /** Indexes of the rows to render, in order. */
  indexes: number[];
  /** Put on the list element. */
  listRef: RefObject<HTMLElement | null>;
  /** Put on each rendered row: measures it and keeps its height by key. */
  measure: (key: string) => (element: HTMLElement | null) => void;
  /**
   * The space between rendered row `index` and the next rendered one when rows between them are
   * not rendered (the focused row far from the view), in pixels; null when they are neighbours.
   */
  gapAfter: (index: number) => number | null;
  /** Scrolls row `index` into view, rendering it first; resolves once it is in the DOM. */
  reveal: (index: number) => Promise<void>;
  /** The key of the row holding the focus, kept rendered; null when none. */
  setFocused: (key: string | null) => void;
}

interface Options {
  keys: readonly string[];
  /** A row's height before it is measured, in pixels. */
  estimate: number;
  /** The space between rows (the list's CSS gap), in pixels. */
  gap: number;
  /** Rows rendered beyond each edge of the view. */
  overscan: number;
}

function scrollParent(element: HTMLElement): HTMLElement {
  for (let node = element.parentElement; node; node = node.parentElement) {
    const { overflowY } = getComputedStyle(node);
    if (overflowY === 'auto' || overflowY === 'scroll') return node;
  }
  return document.scrollingElement instanceof HTMLElement ? document.scrollingElement : document.documentElement;
}

export function useVirtualWindow({ keys, estimate, gap, overscan }: Options): VirtualWindow {
  const listRef = useRef<HTMLElement | null>(null);
  const heights = useRef(new Map<string, number>());
  const observers = useRef(new Map<string, { element: HTMLElement; off: () => void }>());
  // The visible band, in pixels from the list's top edge; bumped on scroll, resize and measure.
  const [band, setBand] = useState({ top: 0, bottom: 800 });
  const [measured, setMeasured] = useState(0);
  const [focused, setFocused] = useState<string | null>(null);
  const [forced, setForced] = useState<number | null>(null);
  const frame = useRef<number | null>(null);

  // Each row's top edge, from the measured heights (or the estimate), and the list's full height.
  const { tops, total } = useMemo(() => {
    const starts = new Array<number>(keys.length);
    let y = 0;
    keys.forEach((key, i) => {
      starts[i] = y;
      y += (heights.current.get(key) ?? estimate) + gap;
    });
    return { tops: starts, total: Math.max(0, y - gap) };
    // `measured` stands for the heights map, which is mutated in place.
  }, [keys, estimate, gap, measured]);

  const readBand = useCallback(() => {
    frame.current = null;
    const list = listRef.current;
    if (!list) return;
    const scroller = scrollParent(list);
    const listTop = list.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
    setBand((old) => {
      const top = -listTop;
      const bottom = top + scroller.clientHeight;
      return old.top === top && old.bottom === bottom ? old : { top, bottom };
    });
  }, []);

  const schedule = useCallback(() => {
    if (frame.current === null) frame.current = requestAnimationFrame(readBand);
  }, [readBand]);

  useLayoutEffect(() => {
    const list = listRef.current;
    if (!list) return;
    const scroller = scrollParent(list);
    readBand();
    scroller.addEventListener('scroll', schedule, { passive: true });
    const resize = new ResizeObserver(schedule);
    resize.observe(scroller);
    return () => {
      scroller.removeEventListener('scroll', schedule);
      resize.disconnect();
      if (frame.current !== null) cancelAnimationFrame(frame.current);
      frame.current = null;
    };
  }, [readBand, schedule]);

  const indexes = useMemo(() => {
    if (keys.length === 0) return [];
    // The first row whose bottom is below the band's top, by binary search over the tops.
    let lo = 0;
    let hi = keys.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((tops[mid + 1] ?? total) <= band.top) lo = mid + 1;
      else hi = mid;
    }
    let last = lo;
    while (last < keys.length - 1 && (tops[last + 1] ?? total) < band.bottom) last += 1;
    const first = Math.max(0, lo - overscan);
    last = Math.min(keys.length - 1, last + overscan);
    const chosen = new Set<number>();
    for (let i = first; i <= last; i += 1) chosen.add(i);
    const focusedIndex = focused === null ? -1 : keys.indexOf(focused);
    if (focusedIndex >= 0) chosen.add(focusedIndex);
    if (forced !== null && forced < keys.length) chosen.add(forced);
    return [...chosen].sort((a, b) => a - b);
  }, [keys, tops, total, band, overscan, focused, forced]);

  // The rows not rendered above and below are the list's padding; between two rendered rows that
  // are not neighbours, a spacer row (gapAfter).
  useLayoutEffect(() => {
    const list = listRef.current;
    if (!list) return;
    const first = indexes[0];
    const last = indexes[indexes.length - 1];
    const above = first === undefined ? 0 : (tops[first] ?? 0);
    const below = last === undefined ? 0 : total - ((tops[last] ?? 0) + (heights.current.get(keys[last] ?? '') ?? estimate));
    list.style.paddingTop = `${above}px`;
    list.style.paddingBottom = `${Math.max(0, below)}px`;
  }, [indexes, tops, total, keys, estimate]);

  // One callback per key, so React does not detach and attach every row's ref on each render.
  const callbacks = useRef(new Map<string, (element: HTMLElement | null) => void>());
  const attach = useCallback(
    (key: string) => (element: HTMLElement | null) => {
      const held = observers.current.get(key);
      if (held && held.element === element) return;
      held?.off();
      observers.current.delete(key);
      if (!element) return;
      const observer = new ResizeObserver(() => {
        const height = element.getBoundingClientRect().height;
        if (height > 0 && heights.current.get(key) !== height) {
          heights.current.set(key, height);
          setMeasured((n) => n + 1);
        }
      });
      observer.observe(element);
      observers.current.set(key, { element, off: () => observer.disconnect() });
    },
    [],
  );
  const measure = useCallback(
    (key: string) => {
      let callback = callbacks.current.get(key);
      if (!callback) {
        callback = attach(key);
        callbacks.current.set(key, callback);
      }
      return callback;
    },
    [attach],
  );

  useEffect(
    () => () => {
      for (const { off } of observers.current.values()) off();
      observers.current.clear();
      callbacks.current.clear();
    },
    [],
  );

  const gapAfter = useCallback(
    (index: number): number | null => {
      const at = indexes.indexOf(index);
      const next = indexes[at + 1];
      if (at < 0 || next === undefined || next === index + 1) return null;
      const bottom = (tops[index] ?? 0) + (heights.current.get(keys[index] ?? '') ?? estimate);
      // The spacer is a row of the list itself, so the list's gap comes twice around it.
      return Math.max(0, (tops[next] ?? 0) - bottom - 2 * gap);
    },
    [indexes, tops, keys, estimate, gap],
  );

  const reveal = useCallback(
    (index: number) =>
      new Promise<void>((resolve) => {
        // Scrolled to where the row should be, so the window moves there; it is also forced in,
        // and then brought exactly into view once rendered and measured.
        const list = listRef.current;
        if (list) {
          const scroller = scrollParent(list);
          const listTop = list.getBoundingClientRect().top - scroller.getBoundingClientRect().top + scroller.scrollTop;
          const rowTop = listTop + (tops[index] ?? 0);
          const rowBottom = rowTop + (heights.current.get(keys[index] ?? '') ?? estimate);
          if (rowTop < scroller.scrollTop) scroller.scrollTop = rowTop;
          else if (rowBottom > scroller.scrollTop + scroller.clientHeight) scroller.scrollTop = rowBottom - scroller.clientHeight;
        }
        setForced(index);
        // React renders it within a frame or two; the pane then scrolls to it and the band
        // follows. The forced row stays rendered until the next reveal: one row, harmless.
        let frames = 0;
        const look = (): void => {
          const row = listRef.current?.querySelector<HTMLElement>(`:scope > [data-index="${index}"]`);
          if (!row && frames++ < 10) return void requestAnimationFrame(look);
          row?.scrollIntoView({ block: 'nearest' });
          resolve();
        };
        requestAnimationFrame(look);
      }),
    [tops, keys, estimate],
  );

  return { indexes, listRef, measure, gapAfter, reveal, setFocused };
}
