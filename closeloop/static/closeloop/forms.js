// Forms without dead ends (issue 17), on the desk and the portal:
// 1. A form shown again with errors gets an error summary at its top (role=alert, one link per field in
//    error; the server draws it for the main forms, this draws it for the others) and the focus moves to
//    the first field in error.
// 2. The language switch keeps what was typed: before it is sent, the page's filled fields are put in
//    sessionStorage; the page drawn in the other language fills them in again (then forgets them).
(function () {
  "use strict";

  var STORE = "closeloop-typed";

  function fieldsOf(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrfmiddlewaretoken" && !/password/i.test(el.name) &&
        ["hidden", "file", "submit", "button", "reset"].indexOf(el.type) === -1;
    });
  }

  function formKey(form) {
    return (form.getAttribute("action") || location.pathname) + "#" + Array.prototype.indexOf.call(document.forms, form);
  }

  function pagePath() {
    return location.pathname + location.search.replace(/([?&])kept=[^&]*&?/, "$1").replace(/[?&]$/, "");
  }

  // --- 1. error summary and focus ------------------------------------------------------------------

  function errorText(field) {
    var box = field.closest(".field, p, div");
    var error = box && box.querySelector(".error, .errorlist li");
    return error ? error.textContent.trim() : "";
  }

  function summarise(form) {
    var invalid = fieldsOf(form).filter(function (el) {
      return el.getAttribute("aria-invalid") === "true" || (el.closest(".has-error") !== null);
    });
    var summary = form.querySelector("[data-error-summary]");
    if (!summary && invalid.length) {
      summary = document.createElement("div");
      summary.className = "error-summary";
      summary.setAttribute("data-error-summary", "");
      summary.setAttribute("role", "alert");
      summary.tabIndex = -1;
      var list = document.createElement("ul");
      invalid.forEach(function (el) {
        if (!el.id) return;
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = "#" + el.id;
        var label = form.querySelector('label[for="' + el.id + '"]');
        link.textContent = (label ? label.textContent.trim() + ": " : "") + errorText(el);
        item.appendChild(link);
        list.appendChild(item);
      });
      summary.appendChild(list);
      form.insertBefore(summary, form.firstChild);
    }
    return invalid[0] || null;
  }

  function focusFirstError() {
    var forms = Array.prototype.filter.call(document.forms, function (form) {
      return form.querySelector(".has-error, [aria-invalid=true], [data-error-summary]");
    });
    if (!forms.length) return;
    var first = summarise(forms[0]);
    forms.slice(1).forEach(summarise);
    var details = forms[0].closest("details");
    if (details) details.open = true;
    var target = first || forms[0].querySelector("[data-error-summary]");
    if (target) {
      target.focus();
      if (target.scrollIntoView) target.scrollIntoView({ block: "center" });
    }
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-error-summary] a[href^='#']");
    if (!link) return;
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (field) {
      event.preventDefault();
      field.focus();
    }
  });

  // --- 2. the language switch keeps what was typed --------------------------------------------------

  function isLanguageSwitch(form) {
    return /\/i18n\/setlang\/?$/.test(form.getAttribute("action") || "");
  }

  document.addEventListener("submit", function (event) {
    if (!isLanguageSwitch(event.target)) return;
    var typed = {};
    Array.prototype.forEach.call(document.forms, function (form) {
      if (isLanguageSwitch(form) || (form.method || "").toLowerCase() !== "post") return;
      var values = [];
      fieldsOf(form).forEach(function (el) {
        if ((el.type === "checkbox" || el.type === "radio")) {
          if (el.checked) values.push([el.name, el.value, true]);
        } else if (el.tagName === "SELECT" && el.multiple) {
          Array.prototype.forEach.call(el.selectedOptions, function (o) { values.push([el.name, o.value, true]); });
        } else if (el.value) {
          values.push([el.name, el.value, false]);
        }
      });
      if (values.length) typed[formKey(form)] = values;
    });
    try {
      sessionStorage.setItem(STORE, JSON.stringify({ page: pagePath(), forms: typed }));
    } catch (e) { /* private mode: nothing kept */ }
  });

  function restoreTyped() {
    var saved;
    try {
      saved = JSON.parse(sessionStorage.getItem(STORE) || "null");
      sessionStorage.removeItem(STORE);
    } catch (e) { return; }
    if (!saved || saved.page !== pagePath()) return;
    Array.prototype.forEach.call(document.forms, function (form) {
      var values = saved.forms[formKey(form)];
      if (!values) return;
      var fields = fieldsOf(form);
      fields.forEach(function (el) {
        if (el.type === "checkbox" || el.type === "radio") el.checked = false;
      });
      values.forEach(function (entry) {
        fields.forEach(function (el) {
          if (el.name !== entry[0]) return;
          if (el.type === "checkbox" || el.type === "radio") {
            if (el.value === entry[1]) el.checked = true;
          } else if (el.tagName === "SELECT" && el.multiple) {
            Array.prototype.forEach.call(el.options, function (o) { if (o.value === entry[1]) o.selected = true; });
          } else {
            el.value = entry[1];
          }
        });
      });
      var details = form.closest("details");
      if (details) details.open = true;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    restoreTyped();
    focusFirstError();
  });
})();
