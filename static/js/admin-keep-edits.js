/* What a clinician typed into a draft is never thrown away without a warning.
 *
 * The draft's form is the one with the version field (lock_version_seen). A workflow step (submit, archive, a
 * comment) is another form on the same page (in .workflow): it does not carry the draft's unsaved changes, so it
 * acted on the saved content while the page showed other words, and the typed words were gone with the page. While
 * the draft has unsaved changes, such a form is not sent; it says why, and the typed words stay.
 *
 * Without this script the forms work as before.
 */
(function () {
  "use strict";

  var TYPES = ["text", "url", "number", "date", "time", "datetime-local", "email", "search", "checkbox"];

  function draftForm() {
    var marker = document.querySelector('input[name="lock_version_seen"]');
    return marker ? marker.form : null;
  }

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (field) {
      if (!field.name || field.disabled || field.name.indexOf("__prefix__") !== -1) { return false; }
      if (field.tagName === "TEXTAREA" || field.tagName === "SELECT") { return true; }
      return field.tagName === "INPUT" && TYPES.indexOf(field.type) !== -1;
    });
  }

  function valueOf(field) {
    if (field.type === "checkbox") { return field.checked ? "on" : ""; }
    if (field.tagName === "SELECT") {
      return Array.prototype.filter.call(field.options, function (option) { return option.selected; })
        .map(function (option) { return option.value; }).join("\n");
    }
    return field.value;
  }

  function shownValueOf(field) {  // as the server sent the page
    if (field.type === "checkbox") { return field.defaultChecked ? "on" : ""; }
    if (field.tagName === "SELECT") {
      var chosen = Array.prototype.filter.call(field.options, function (option) { return option.defaultSelected; });
      if (!chosen.length && !field.multiple && field.options.length) { chosen = [field.options[0]]; }
      return chosen.map(function (option) { return option.value; }).join("\n");
    }
    return field.defaultValue;
  }

  function labelOf(field) {
    var label = field.labels && field.labels[0] ? field.labels[0].textContent.replace(/[:\s]+$/, "") : field.name;
    var row = field.name.match(/^(.+)-(\d+)-/);
    return row ? label + " (" + row[1].replace(/_/g, " ") + ", row " + (Number(row[2]) + 1) + ")" : label;
  }

  function unsaved(form) {
    return fields(form).filter(function (field) { return valueOf(field) !== shownValueOf(field); });
  }

  // No other form is sent from a page whose draft has unsaved changes.
  document.addEventListener("submit", function (event) {
    var form = draftForm();
    var sent = event.target;
    if (!form || sent === form || !sent.closest(".workflow")) { return; }
    var changes = unsaved(form);
    if (!changes.length) { return; }
    event.preventDefault();
    var alert = sent.querySelector(".unsaved-warning");
    if (!alert) {
      alert = document.createElement("p");
      alert.className = "unsaved-warning errornote";
      alert.setAttribute("role", "alert");
      (sent.querySelector("fieldset") || sent).appendChild(alert);
    }
    var names = changes.slice(0, 3).map(labelOf).join("; ") + (changes.length > 3 ? "; and more" : "");
    alert.textContent = "Not sent: the draft below has changes you have not saved (" + names + "). " +
      "This step would act on the saved version without them. Save them first with \u201cSave and continue " +
      "editing\u201d, then do this again; or undo them.";
  }, true);
})();
