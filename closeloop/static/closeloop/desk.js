// Desk behaviour that htmx does not cover: filling the customer fields from a lookup match and
// showing the department proposed for the picked complaint type. Event delegation, so that it
// keeps working on content swapped in by htmx.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-fill-customer]");
    if (!button) return;
    var form = button.closest("form");
    ["customer_name", "customer_kind", "organisation", "province", "city", "phone", "email", "address"].forEach(
      function (name) {
        var value = button.dataset[name];
        var input = form.elements[name];
        if (input && value !== undefined && value !== "") input.value = value;
      }
    );
    // The other matches go; the chosen customer's open complaints (a warning when one is about the same
    // product) stay in view.
    var matches = button.closest(".matches");
    var open = button.parentNode.querySelector(".open-complaints");
    if (matches) {
      matches.innerHTML = "";
      if (open) matches.appendChild(open);
    }
    var next = form.elements["description"];
    if (next) next.focus();
  });

  document.addEventListener("change", function (event) {
    var radio = event.target;
    if (radio.name !== "type" || !radio.dataset) return;
    var proposal = document.getElementById("department-proposal");
    if (proposal) proposal.textContent = radio.dataset.department || "—";
  });
})();

// The queue's search box searches on its own while one types (its own htmx request); its change event
// (on Enter or leaving the box) must not make the form search once more — Enter submits the form.
document.addEventListener(
  "change",
  function (event) {
    if (event.target.matches && event.target.matches("form.filters input[type=search]")) event.stopPropagation();
  },
  true
);

// Irreversible actions (marked "danger" in the lifecycle table) ask first.
document.addEventListener("submit", function (event) {
  var message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

// Filters that apply as soon as a value is picked (the report list's status, the calendar's month).
document.addEventListener("change", function (event) {
  var field = event.target;
  if (!field.matches || !field.matches("[data-autosubmit]") || !field.form) return;
  if (field.form.requestSubmit) field.form.requestSubmit();
  else field.form.submit();
});

// The solution form: compensation fields only when the compensation measure is ticked. Runs on page
// load and on every piece of content htmx swaps in.
(function () {
  "use strict";

  function sync(form) {
    var box = form.querySelector('input[name$="measures"][value="compensation"]');
    var fields = form.querySelector("[data-compensation]");
    if (box && fields) fields.hidden = !box.checked;
  }

  function syncWithin(root) {
    if (!root.querySelectorAll) return;
    if (root.matches && root.matches("[data-solution-form]")) sync(root);
    root.querySelectorAll("[data-solution-form]").forEach(sync);
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("[data-solution-form]");
    if (form && event.target.name && /measures$/.test(event.target.name)) sync(form);
  });
  document.addEventListener("DOMContentLoaded", function () { syncWithin(document); });
  document.addEventListener("htmx:load", function (event) { syncWithin(event.target); });
})();

// The phone's menu: the sidebar opens above the page and closes again (the button in the top bar).
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-menu-toggle]");
  if (!button) return;
  var open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  document.body.classList.toggle("nav-open", open);
  if (open) {
    var first = document.querySelector("#sidebar a");
    if (first) first.focus();
  }
});

// Saving a view saves the filters shown now: htmx changed the address since the page was drawn.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.matches || !form.matches("[data-saved-view-form]")) return;
  form.elements.query.value = window.location.search.replace(/^\?/, "");
});

// Triage suggestions on the registration form (closeloop/triage): a suggestion is applied only when the
// agent accepts it — a click, Alt+1…4 for one, Alt+0 for all.
(function () {
  "use strict";

  function accept(button) {
    var form = button.closest("form");
    if (!form) return;
    var name = button.getAttribute("data-triage-field");
    var value = button.getAttribute("data-triage-value");
    form.querySelectorAll('[name="' + name + '"]').forEach(function (field) {
      if (field.type === "radio") field.checked = field.value === value;
      else field.value = value;
      field.dispatchEvent(new Event("change", { bubbles: true }));
    });
    button.classList.add("accepted");
    button.setAttribute("aria-pressed", "true");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-triage-accept]");
    if (button) accept(button);
  });
  document.addEventListener("keydown", function (event) {
    if (!event.altKey || !/^Digit[0-4]$/.test(event.code)) return;
    var key = event.code.slice(5);
    var buttons = document.querySelectorAll("[data-triage-accept]");
    if (!buttons.length) return;
    event.preventDefault();
    buttons.forEach(function (button) {
      if (key === "0" || button.getAttribute("data-triage-key") === key) accept(button);
    });
  });
})();

// A table wider than the screen scrolls sideways (on a phone every grid does): it must then be reachable
// and scrollable with the keyboard too (axe: scrollable-region-focusable), so it joins the tab order.
(function () {
  "use strict";
  function focusableWhenScrolling(root) {
    if (!root.querySelectorAll) return;
    root.querySelectorAll("table.grid, .table-scroll, .calendar-month").forEach(function (el) {
      if (el.scrollWidth > el.clientWidth && !el.hasAttribute("tabindex")) el.setAttribute("tabindex", "0");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { focusableWhenScrolling(document); });
  document.addEventListener("htmx:load", function (event) { focusableWhenScrolling(event.target); });
  window.addEventListener("resize", function () { focusableWhenScrolling(document); });
})();
