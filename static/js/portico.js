// Small progressive enhancements; every page works without this file.
document.addEventListener("click", function (ev) {
  var btn = ev.target.closest("[data-copy]");
  if (!btn) return;
  var el = document.getElementById(btn.getAttribute("data-copy"));
  if (el && navigator.clipboard) {
    navigator.clipboard.writeText(el.textContent.trim());
    btn.textContent = "Copied";
  }
});

// ---- Policy editor (issue 6) ----
// The editor answers a refused save with 422 (and a concurrent save with
// 409): swap that page in too, so the inline errors appear in place.
document.addEventListener("htmx:beforeSwap", function (ev) {
  var s = ev.detail.xhr && ev.detail.xhr.status;
  if ((s === 422 || s === 409) && ev.detail.target && ev.detail.target.id === "policy-editor") {
    ev.detail.shouldSwap = true;
    ev.detail.isError = false;
  }
});

// Drag-and-drop reorder of rules. Only the elements move: the form posts
// rules in page order, so the next submit (or Update) carries the order.
(function () {
  var dragged = null;
  document.addEventListener("dragstart", function (ev) {
    var li = ev.target.closest && ev.target.closest("li[data-rule]");
    if (!li) return;
    dragged = li;
    li.classList.add("dragging");
    ev.dataTransfer.effectAllowed = "move";
  });
  document.addEventListener("dragover", function (ev) {
    if (!dragged) return;
    var over = ev.target.closest && ev.target.closest("li[data-rule]");
    if (!over || over === dragged || over.parentNode !== dragged.parentNode) return;
    ev.preventDefault();
    var r = over.getBoundingClientRect();
    var after = ev.clientY > r.top + r.height / 2;
    over.parentNode.insertBefore(dragged, after ? over.nextSibling : over);
  });
  document.addEventListener("dragend", function () {
    if (!dragged) return;
    dragged.classList.remove("dragging");
    var form = dragged.closest("form");
    dragged = null;
    var update = form && form.querySelector("button.default-op");
    if (update) update.click(); // redraw "If / Else if" and the summary
  });
})();
