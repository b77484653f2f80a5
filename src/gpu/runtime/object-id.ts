/**
 * A stable number per object (buffer, pipeline), given on first ask and
 * increasing, for keys and orderings that must not depend on anything but
 * identity: the bind-group cache's keys (run.ts) and the tensor pool's
 * oldest-first order (tensor.ts).
 */
const ids = new WeakMap<object, number>();
let next = 1;

export function objectId(o: object): number {
  let id = ids.get(o);
  if (id === undefined) {
    id = next++;
    ids.set(o, id);
  }
  return id;
}
