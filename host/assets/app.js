// Switchyard admin UI: small enhancements on top of pages that work without
// JavaScript. No inline script anywhere (the pages' CSP forbids it).
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Copy buttons: <button data-copy="ID"> copies the value of element ID.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    var text = field.value !== undefined ? field.value : field.textContent;
    var done = function (label) {
      var original = button.getAttribute("data-label") || button.textContent;
      button.setAttribute("data-label", original);
      button.textContent = label;
      setTimeout(function () { button.textContent = original; }, 2000);
    };
    var selectIt = function () {
      field.focus();
      if (field.select) field.select();
      done("Press Ctrl+C");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done("Copied"); }, selectIt);
    } else {
      selectIt();
    }
  });

  // "Add a row" for mapping tables: clones the last row with the next index.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add-row]");
    if (!button) return;
    var form = button.closest("form");
    var body = form && form.querySelector("table." + button.getAttribute("data-add-row") + " tbody");
    if (!body || !body.lastElementChild) return;
    var last = body.lastElementChild;
    var index = body.children.length;
    var row = last.cloneNode(true);
    row.classList.remove("invalid");
    row.querySelectorAll(".field-error").forEach(function (error) { error.remove(); });
    row.querySelectorAll("[id],[name],[for],[aria-describedby]").forEach(function (element) {
      ["id", "name", "for"].forEach(function (attribute) {
        var value = element.getAttribute(attribute);
        if (value) element.setAttribute(attribute, value.replace(/_\d+$/, "_" + index));
      });
      element.removeAttribute("aria-describedby");
      element.removeAttribute("aria-invalid");
    });
    row.querySelectorAll("input[type=text], input:not([type])").forEach(function (input) { input.value = ""; });
    row.querySelectorAll("select").forEach(function (select) { select.selectedIndex = 0; });
    row.querySelectorAll("label.visually-hidden").forEach(function (label) {
      label.textContent = label.textContent.replace(/row \d+$/, "row " + (index + 1));
    });
    if (row.firstElementChild) row.firstElementChild.textContent = String(index + 1);
    body.appendChild(row);
    var first = row.querySelector("input");
    if (first) first.focus();
  });
})();
