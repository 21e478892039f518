/** Collections kept current: listed, then watched, and drawn at most once per animation frame. */
import { listAndWatch } from "./api.ts";
import { applyWatchEvent, keyOf, type ApiObject, type WatchEvent } from "./model.ts";

/** List and watch a collection into a map, calling `draw` (at most once a frame) with the current objects. */
export function watchInto<T extends ApiObject>(path: string, draw: (objects: Map<string, T>) => void): () => void {
  const objects = new Map<string, T>();
  let pending = false;
  const schedule = (): void => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      draw(objects);
    });
  };
  return listAndWatch<T>(
    path,
    (items) => {
      objects.clear();
      for (const item of items) objects.set(keyOf(item), item);
      schedule();
    },
    (event: WatchEvent<T>) => {
      if (applyWatchEvent(objects, event)) schedule();
    },
  );
}
