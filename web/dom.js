// Small DOM builder. Text always goes in through text nodes, never as HTML,
// so message bodies and names from the server cannot inject markup.

/**
 * Creates an element. `props` keys: `class`, `text`, `attrs` (attributes),
 * `dataset`, `on` (event listeners) and any other DOM property, such as `type`.
 * Children are nodes or strings, and null or false children are skipped.
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === 'class') element.className = value;
    else if (key === 'text') element.textContent = value;
    else if (key === 'attrs') setAttributes(element, value);
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key === 'on') addListeners(element, value);
    else element[key] = value;
  }
  append(element, children);
  return element;
}

function setAttributes(element, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
}

function addListeners(element, listeners) {
  for (const [type, listener] of Object.entries(listeners)) {
    element.addEventListener(type, listener);
  }
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

/** Moves focus to `element`, making it focusable by script if it is not already. */
export function focusElement(element) {
  if (!element) return;
  if (!element.hasAttribute('tabindex') && element.tabIndex < 0) {
    element.setAttribute('tabindex', '-1');
  }
  element.focus();
}
