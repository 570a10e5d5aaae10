// The console's one script, progressive enhancement only: every page works
// without it. "/" moves to the search box; a "select all" box checks the
// rows of its table.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const typing = event.target.closest("input, textarea, select, [contenteditable]");
  const search = document.getElementById("search");
  if (typing || !search) return;
  event.preventDefault();
  search.focus();
  search.select();
});
document.addEventListener("change", (event) => {
  const all = event.target.closest("input[data-select-all]");
  if (!all) return;
  for (const box of document.querySelectorAll(`input[name="${all.dataset.selectAll}"]`)) {
    box.checked = all.checked;
  }
});
