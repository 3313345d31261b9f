/* The printable ticket: the print button. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("print").addEventListener("click", () => window.print());
});
