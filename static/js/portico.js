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
