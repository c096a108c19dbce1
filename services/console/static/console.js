// The console's only script (the pages work without it): ask before a form marked
// data-confirm is sent, and put the cursor in a scan field when a page has one.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
document.addEventListener("DOMContentLoaded", () => {
  const scan = document.querySelector("input.scan");
  if (scan) scan.focus();
});
