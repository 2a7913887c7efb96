/* Ordering rows in the admin without typing numbers.
 *
 * Each row of an editable list (.order-group) has "Move up" and "Move down" buttons. Without
 * this script they are submit buttons: the server moves the row and saves the page. With it,
 * they move the row on the page, and every row's hidden position field is renumbered 1..n in
 * page order; the server assigns the positions from those numbers when the page is saved.
 * Rows can also be dragged by their handle; the buttons are the keyboard way to do the same.
 * Each move is announced in a polite live region.
 */
(function () {
  "use strict";

  var status;

  function announce(text) {
    if (!status) {
      status = document.createElement("div");
      status.className = "visually-hidden";
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      document.body.appendChild(status);
    }
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  function rows(group) {
    return Array.prototype.filter.call(group.querySelectorAll("[data-order-row]"), function (row) {
      return !row.classList.contains("empty-form") && row.closest(".order-group") === group;
    });
  }

  function renumber(group) {
    rows(group).forEach(function (row, index) {
      var input = row.querySelector("input[data-order-position]");
      if (input) { input.value = String(index + 1); }
    });
  }

  function label(row) {
    var text = row.querySelector(".inline_label, td.original p");
    return text ? text.textContent.trim() : "Row";
  }

  function move(group, row, direction) {
    var all = rows(group);
    var index = all.indexOf(row);
    var other = all[direction === "up" ? index - 1 : index + 1];
    if (!other) {
      announce(label(row) + " is already " + (direction === "up" ? "first." : "last."));
      return;
    }
    if (direction === "up") { other.before(row); } else { other.after(row); }
    renumber(group);
    announce(label(row) + " moved to place " + (rows(group).indexOf(row) + 1) + " of " + all.length + ".");
  }

  function position(row) {
    var input = row.querySelector("input[data-order-position]");
    var value = input ? parseInt(input.value, 10) : NaN;
    return isNaN(value) ? Infinity : value;
  }

  function showInSentOrder(group) {
    // A page shown again with errors lists the rows as the forms were numbered; the hidden
    // positions still hold the order the author chose, so show them in that order.
    var all = rows(group);
    var sorted = all.slice().sort(function (a, b) {
      return (position(a) - position(b)) || (all.indexOf(a) - all.indexOf(b));
    });
    if (sorted.every(function (row, index) { return row === all[index]; })) { return; }
    var anchor = all[all.length - 1].nextSibling;
    var parent = all[0].parentNode;
    sorted.forEach(function (row) { parent.insertBefore(row, anchor); });
  }

  function setUp(group) {
    group.classList.add("order-group--js");
    if (rows(group).length > 1) { showInSentOrder(group); }
    group.addEventListener("click", function (event) {
      var button = event.target.closest(".order-button");
      if (!button || button.closest(".order-group") !== group) { return; }
      event.preventDefault();
      move(group, button.closest("[data-order-row]"), button.classList.contains("order-up") ? "up" : "down");
      button.focus();
    });

    // Dragging: only from the handle, so text in the fields can still be selected.
    var dragged = null;
    group.addEventListener("mousedown", function (event) {
      var handle = event.target.closest(".order-handle");
      if (handle) { handle.closest("[data-order-row]").setAttribute("draggable", "true"); }
    });
    group.addEventListener("dragstart", function (event) {
      dragged = event.target.closest && event.target.closest("[data-order-row]");
      if (!dragged) { return; }
      dragged.classList.add("order-dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", label(dragged));
    });
    group.addEventListener("dragover", function (event) {
      var over = event.target.closest("[data-order-row]");
      if (!dragged || !over || over === dragged || rows(group).indexOf(over) < 0) { return; }
      event.preventDefault();
      var box = over.getBoundingClientRect();
      if (event.clientY < box.top + box.height / 2) { over.before(dragged); } else { over.after(dragged); }
    });
    group.addEventListener("drop", function (event) { if (dragged) { event.preventDefault(); } });
    group.addEventListener("dragend", function () {
      if (!dragged) { return; }
      dragged.classList.remove("order-dragging");
      dragged.removeAttribute("draggable");
      renumber(group);
      announce(label(dragged) + " moved to place " + (rows(group).indexOf(dragged) + 1) + ".");
      dragged = null;
    });
  }

  function ready() {
    Array.prototype.forEach.call(document.querySelectorAll(".order-group"), setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
