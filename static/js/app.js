// Small enhancements on top of htmx; every page works without this file.
document.addEventListener("htmx:afterSwap", (event) => {
  // After a swap, move focus to what the person needs next: an invalid field, the first
  // field of a form that appeared, or the element marked data-focus.
  // An outerHTML swap replaces the target: the event then comes from the new element.
  const root = document.contains(event.detail.target) ? event.detail.target : event.target;
  if (!(root instanceof Element) || !document.contains(root)) return;
  const target =
    root.querySelector("[aria-invalid='true']") ||
    root.querySelector("[data-focus]") ||
    (root.matches("[data-focus]") ? root : null) ||
    root.querySelector("input:not([type=hidden]), select, textarea");
  if (target) target.focus();
});
