// Small DOM helpers. Text only: nothing here (or anywhere in the console) writes markup.

/** The element with this id. */
export function $(id) {
  return document.getElementById(id);
}

/** A new element: `props` are properties (`text` = textContent, `class` = className, `attrs`). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key === "attrs") for (const [name, v] of Object.entries(value)) node.setAttribute(name, v);
    else node[key] = value;
  }
  node.append(...children);
  return node;
}

/** The element marked `data-part="<name>"` inside `root` (a card built from a template). */
export function part(root, name) {
  return root.querySelector(`[data-part="${name}"]`);
}

/** Show `items` in `container`, in order, each by an entry kept across refreshes in `entries` (its
 * `item[key]` -> the entry, whose element is `entry.node`): `make(item)` builds a missing entry,
 * `fill(entry, item)` updates it. Only what is out of place is moved (moving a node would take the
 * focus away from its fields); the entries of items no longer there are removed. */
export function reconcile(container, entries, items, key, make, fill) {
  const seen = new Set();
  items.forEach((item, index) => {
    seen.add(item[key]);
    let entry = entries.get(item[key]);
    if (!entry) {
      entry = make(item);
      entries.set(item[key], entry);
    }
    fill(entry, item);
    const node = container.children[index];
    if (node !== entry.node) container.insertBefore(entry.node, node || null);
  });
  for (const [id, entry] of entries) {
    if (!seen.has(id)) {
      entry.node.remove();
      entries.delete(id);
    }
  }
}
