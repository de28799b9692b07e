// Typing a paper sponsorship form into its grid from the keyboard alone: Tab moves along a
// line (the browser's own), Enter moves to the next line, making a new one after the last.
// Without this script Enter checks the lines, and "Add more lines" makes room.
(function () {
  "use strict";
  var MAX_ROWS = 500;

  function addRow(body) {
    var template = document.getElementById("paper-row-template");
    var count = document.getElementById("paper-rows");
    var n = parseInt(count.value, 10) || body.rows.length;
    if (!template || n >= MAX_ROWS) return null;
    var html = template.innerHTML.replace(/__n__/g, String(n)).replace(/__shown__/g, String(n + 1));
    body.insertAdjacentHTML("beforeend", html);
    count.value = String(n + 1);
    var row = body.lastElementChild;
    if (window.htmx) window.htmx.process(row);
    return row;
  }

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key !== "Enter" || event.isComposing || input.tagName !== "INPUT") return;
    var grid = input.closest("[data-paper-grid]");
    if (!grid) return;
    event.preventDefault();
    // The row is checked as it is left, whichever way (Enter sends no change event itself).
    input.dispatchEvent(new Event("change", { bubbles: true }));
    var row = input.closest("tr");
    var next = row.nextElementSibling || addRow(row.parentElement);
    if (next) next.querySelector("input").focus();
  });
})();
