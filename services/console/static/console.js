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
// Channels: "Add a row" under a SKU mapping copies its last empty row with the next row number
// (without the script, "More empty rows" reloads the page with more of them).
document.addEventListener("click", (event) => {
  const table = event.target.dataset && document.getElementById(event.target.dataset.addRow || "");
  if (!table) return;
  const rows = table.querySelectorAll("tr[data-row]");
  const last = rows[rows.length - 1];
  if (!last) return;
  const next = Math.max(...[...table.querySelectorAll("input[name^='channel_sku_']")]
    .map((input) => Number(input.name.slice("channel_sku_".length)))) + 1;
  const row = last.cloneNode(true);
  row.querySelectorAll("input").forEach((input) => {
    input.name = input.name.replace(/_\d+$/, `_${next}`);
    input.value = "";
    input.removeAttribute("autofocus");
  });
  last.after(row);
  row.querySelector("input").focus();
});
