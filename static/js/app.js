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

// A table stacks into labelled rows on narrow screens (static/css/site.css): a cell shows its
// column's heading from data-label. Templates should write data-label themselves (the `table`
// and `cell` macros of templates/_ui.html do); this fills in any a template left out, so a
// table is still readable on a phone. Without JavaScript the rows stack unlabelled.
function labelCells(root) {
  for (const table of root.querySelectorAll("table")) {
    // A heading only screen readers get (an "Action" column) labels nothing on screen either.
    const headings = [...table.querySelectorAll("thead th")].map((th) =>
      th.querySelector(":scope > .visually-hidden:only-child") ? "" : th.textContent.trim(),
    );
    if (!headings.length) continue;
    for (const row of table.querySelectorAll("tbody tr")) {
      [...row.children].forEach((cell, i) => {
        const plain = cell.tagName === "TD" && !cell.hasAttribute("colspan");
        if (plain && !cell.hasAttribute("data-label") && headings[i] !== undefined) {
          cell.setAttribute("data-label", headings[i]);
        }
      });
    }
  }
}
labelCells(document);
document.addEventListener("htmx:afterSwap", (event) => {
  const root = document.contains(event.detail.target) ? event.detail.target : event.target;
  if (root instanceof Element && document.contains(root)) labelCells(root.parentElement || root);
});
