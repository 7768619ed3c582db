// Connected components of identity keys. Two events belong together when their keys connect,
// directly or through other events; a user's state depends on its component's events alone, so a
// component can be folded apart from every other (the projector re-derives one at a time; the
// determinism tests check the split gives what folding everything at once gives).
import type { NormalizedEvent } from "./event.js";
import type { IdentityKey } from "./identity.js";

/** The identity keys an event's facts name, each once, in the order they first appear. */
export const eventKeys = (event: NormalizedEvent): IdentityKey[] => [...new Set(event.facts.flatMap((f) => f.keys))];

/**
 * Groups items whose key lists connect (share a key, directly or through other items): the
 * indices of each group, in the order of their first item, each group in item order. An item with
 * no keys is a group of its own.
 */
export const connectedGroups = (keyLists: readonly (readonly string[])[]): number[][] => {
  const parent = new Map<string, string>();
  const find = (key: string): string => {
    let root = key;
    for (let up = parent.get(root); up !== undefined && up !== root; up = parent.get(root)) root = up;
    // Path compression: every key on the way now points at the root.
    for (let k = key, up = parent.get(k); up !== undefined && up !== root; k = up, up = parent.get(k)) parent.set(k, root);
    return root;
  };
  for (const keys of keyLists) {
    for (const k of keys) if (!parent.has(k)) parent.set(k, k);
    const first = keys[0];
    if (first === undefined) continue;
    for (const k of keys.slice(1)) {
      const a = find(first);
      const b = find(k);
      if (a !== b) parent.set(b, a);
    }
  }
  const groups = new Map<string, number[]>();
  const alone: number[][] = [];
  keyLists.forEach((keys, i) => {
    const first = keys[0];
    if (first === undefined) return void alone.push([i]);
    const root = find(first);
    const group = groups.get(root);
    if (group) group.push(i);
    else groups.set(root, [i]);
  });
  return [...groups.values(), ...alone].sort((a, b) => a[0]! - b[0]!);
};

/** The events split into connected components; events that name no key belong to none and are left out. */
export const componentsOf = (events: readonly NormalizedEvent[]): NormalizedEvent[][] => {
  const keys = events.map(eventKeys);
  return connectedGroups(keys)
    .filter((group) => keys[group[0]!]!.length > 0)
    .map((group) => group.map((i) => events[i]!));
};
