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
  // Parts of a form that matter for one choice only: data-show-for="auth_type=basic"
  // shows the element while the control named auth_type has the value basic
  // (a value ending in "_" matches as a prefix: "payload_format=plg_").
  // Without JavaScript every part stays visible, each labelled for its choice.
  function shownFor(form, rule) {
    var parts = rule.split("=");
    var control = form.elements[parts[0]];
    if (!control) return true;
    var value = control.value;
    var want = parts[1];
    return value === want || (want.slice(-1) === "_" && value.indexOf(want) === 0);
  }

  // Batching needs POST and a JSON payload other than "full"; the server
  // refuses the rest with the same reasons (domain/webhook/batching.rs).
  function batchingBlocker(form) {
    if (!form.elements.method || !form.elements.payload_format) return null;
    if (form.elements.method.value !== "POST") {
      return "Batching needs method POST (a batch is a JSON array in the body); this webhook uses " + form.elements.method.value + ".";
    }
    var format = form.elements.payload_format.value;
    if (format === "full") {
      return "Batching is not available with the full payload format: each payload carries the lead's whole funnel history; use small or event-only.";
    }
    var sendAs = form.querySelector("input[name=template_format]:checked");
    if (format === "template" && sendAs && sendAs.value === "form") {
      return "Batching needs JSON payloads (a batch is a JSON array); this template sends a form.";
    }
    return null;
  }

  function updateForm(form) {
    form.querySelectorAll("[data-show-for]").forEach(function (part) {
      part.hidden = !shownFor(form, part.getAttribute("data-show-for"));
    });
    var note = form.querySelector("#batching-blocked");
    var options = form.querySelector("#batching-options");
    if (note && options) {
      var blocked = batchingBlocker(form);
      var mode = form.elements.batch_mode;
      note.hidden = !blocked;
      note.textContent = blocked ? "Batching is not available with these settings: " + blocked : "";
      options.hidden = Boolean(blocked) && mode && mode.value === "none";
    }
  }

  function updateForms() {
    document.querySelectorAll("form").forEach(function (form) {
      if (form.querySelector("[data-show-for], #batching-options")) updateForm(form);
    });
  }
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form) updateForm(form);
  });
  document.addEventListener("DOMContentLoaded", updateForms);
  document.addEventListener("htmx:afterSettle", updateForms);

  // Merge tag buttons: insert the tag at the cursor of the template editor,
  // then let the preview follow (htmx listens for input).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-insert]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-into"));
    if (!field) return;
    var text = button.getAttribute("data-insert");
    var start = field.selectionStart === undefined ? field.value.length : field.selectionStart;
    var end = field.selectionEnd === undefined ? start : field.selectionEnd;
    field.value = field.value.slice(0, start) + text + field.value.slice(end);
    field.focus();
    field.selectionStart = field.selectionEnd = start + text.length;
    field.dispatchEvent(new Event("input", { bubbles: true }));
  });
})();
