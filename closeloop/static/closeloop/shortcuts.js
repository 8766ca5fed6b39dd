// Keyboard shortcuts of the desk (listed in the help overlay, templates/core/_shortcuts_help.html, and
// in docs/user-guide.md): "g" then a letter goes to a page of the menu (the sidebar's links carry
// data-shortcut="g <letter>"), "/" searches, "n" registers, j/k move through a list, "?" shows the help.
// Keys typed into a field are the field's; a modifier (Ctrl, Alt, Meta) leaves the browser's own.
(function () {
  "use strict";

  var pendingG = false;
  var pendingTimer = null;

  function typing(target) {
    if (!target || !target.closest) return false;
    return Boolean(target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]"));
  }

  function go(selector) {
    var link = document.querySelector(selector);
    if (link) window.location.assign(link.href);
    return Boolean(link);
  }

  // The rows of the page's main list: table rows with a link (queue, inbox, lists).
  function rows() {
    return Array.prototype.filter.call(document.querySelectorAll("main table.grid tbody tr"), function (row) {
      return row.querySelector("a[href]");
    });
  }

  function move(step) {
    var list = rows();
    if (!list.length) return;
    var index = list.findIndex(function (row) { return row.classList.contains("kb-current"); });
    var next = index < 0 ? (step > 0 ? 0 : list.length - 1) : Math.min(Math.max(index + step, 0), list.length - 1);
    if (index >= 0) list[index].classList.remove("kb-current");
    list[next].classList.add("kb-current");
    list[next].querySelector("a[href]").focus({ preventScroll: true });
    list[next].scrollIntoView({ block: "nearest" });
  }

  function currentRow() {
    return document.querySelector("main tr.kb-current");
  }

  function toggleMenu() {
    var button = document.querySelector("[data-menu-toggle]");
    if (button) button.click();
  }

  function help() {
    var dialog = document.getElementById("shortcuts-help");
    if (dialog && !dialog.open) dialog.showModal();
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-shortcuts-help]")) help();
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) return;
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (document.querySelector("dialog[open]")) return; // the dialog's own keys (Esc closes it)
    var key = event.key;
    if (pendingG) {
      pendingG = false;
      window.clearTimeout(pendingTimer);
      if (go('#sidebar a[data-shortcut="g ' + key + '"]')) event.preventDefault();
      return;
    }
    var handled = true;
    if (key === "g") {
      pendingG = true;
      pendingTimer = window.setTimeout(function () { pendingG = false; }, 1500);
    } else if (key === "?") {
      help();
    } else if (key === "/") {
      var search = document.querySelector("main input[type=search]");
      if (search) search.focus();
      else handled = go('#sidebar a[data-shortcut="g q"]');
    } else if (key === "n") {
      handled = go('#sidebar a[data-shortcut="g n"]');
    } else if (key === "j") {
      move(1);
    } else if (key === "k") {
      move(-1);
    } else if (key === "o" || (key === "Enter" && currentRow() && event.target === document.body)) {
      var row = currentRow();
      handled = Boolean(row) && go("main tr.kb-current a[href]");
    } else if (key === "x") {
      var box = currentRow() && currentRow().querySelector("input[type=checkbox]");
      if (box) box.click();
      else handled = false;
    } else if (key === "m") {
      toggleMenu();
    } else {
      handled = false;
    }
    if (handled) event.preventDefault();
  });
})();
