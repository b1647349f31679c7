// A few DOM helpers: h() builds elements, syncList() updates keyed children in place so that polling
// never throws away what a person is typing or where the keyboard focus is.

/**
 * h('a', { href: '#/x', class: 'link', onclick: fn, dataset: { key: 'k' } }, 'text', child, [more])
 * Attributes named on* become listeners; false/null/undefined attributes are left out; true ones are empty.
 */
export function h(tag, attrs, ...children) {
  const svg = ['svg', 'g', 'rect', 'line', 'polyline', 'path', 'text', 'title', 'circle', 'desc'].includes(tag);
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name === 'value' && !svg) el.value = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/**
 * Makes parent's children match items, keyed by key(item): new items get create(item), existing ones
 * get update(element, item) (when given; it may return a replacement element), gone ones are removed.
 * Order follows items.
 */
export function syncList(parent, items, key, create, update) {
  const existing = new Map();
  for (const child of [...parent.children]) {
    if (child.dataset.key !== undefined) existing.set(child.dataset.key, child);
  }

  const wanted = new Set();
  let previous = null;
  for (const item of items) {
    const k = String(key(item));
    wanted.add(k);
    let el = existing.get(k);
    if (!el) {
      el = create(item);
      el.dataset.key = k;
    } else if (update) {
      const replacement = update(el, item);
      if (replacement && replacement !== el) {
        replacement.dataset.key = k;
        el.replaceWith(replacement);
        el = replacement;
      }
    }

    const expectedPosition = previous ? previous.nextElementSibling : parent.firstElementChild;
    if (el !== expectedPosition) parent.insertBefore(el, expectedPosition);
    previous = el;
  }

  for (const [k, el] of existing) {
    if (!wanted.has(k)) el.remove();
  }
}

/** Re-renders a row only when its data changed (compared as JSON), keeping untouched rows (and focus) as they are. */
export function syncRows(tbody, items, key, render) {
  syncList(tbody, items, key, (item) => withSignature(render(item), item), (el, item) =>
    el.dataset.signature === JSON.stringify(item) ? undefined : withSignature(render(item), item));
}

function withSignature(el, item) {
  el.dataset.signature = JSON.stringify(item);
  return el;
}

/** Replaces the children of el only when the signature of what they show changed. */
export function renderIfChanged(el, signature, render) {
  const text = typeof signature === 'string' ? signature : JSON.stringify(signature);
  if (el.dataset.signature === text) return false;
  el.dataset.signature = text;
  el.replaceChildren(...[render()].flat(Infinity).filter((x) => x !== null && x !== undefined && x !== false));
  return true;
}

let uid = 0;
export const nextId = (prefix) => `${prefix}-${++uid}`;
