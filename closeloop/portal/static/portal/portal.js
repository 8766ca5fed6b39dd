// Shows the company/store field only to dealers and stores. Without JavaScript it is always shown.
(function () {
  "use strict";
  function update(form) {
    var checked = form.querySelector('input[name="customer_kind"]:checked');
    var kind = checked ? checked.value : "";
    form.querySelectorAll("[data-show-for]").forEach(function (el) {
      el.hidden = el.getAttribute("data-show-for").split(" ").indexOf(kind) === -1;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector(".complaint-form");
    if (!form) return;
    form.addEventListener("change", function (event) {
      if (event.target.name === "customer_kind") update(form);
    });
    update(form);
    form.addEventListener("submit", function () {
      var button = form.querySelector('button[type="submit"]');
      if (button) button.setAttribute("aria-busy", "true");
    });
  });
})();
