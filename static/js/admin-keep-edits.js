/* What a clinician typed into a draft is never thrown away without a warning and a way back.
 *
 * The draft's form is the one with the version field (lock_version_seen). Two ways its typed words were lost:
 *
 * 1. A workflow step (submit, archive, a comment) is another form on the same page (in .workflow): it does not carry the draft's
 *    unsaved changes, so it acted on the saved content while the page showed other words, and the typed words were
 *    gone with the page. While the draft has unsaved changes, such a form is not sent; it says why.
 * 2. A save the server could not take (the session had ended, or a log-in in another tab had changed the security
 *    token) is answered with the log-in or a refusal page, not the form. So each save keeps a copy of what it changed
 *    in this tab (sessionStorage: gone with the tab), until a page says it was saved, or it is put back or
 *    discarded. Back on the draft with changes not on the page, the page offers to put them back; a field someone else
 *    changed since is not overwritten, and its words are shown to copy instead. Only to whoever typed them (the
 *    staff-user meta tag): on a shared computer the next person signed in is never offered them to save as theirs.
 *
 * Without this script the forms work as before.
 */
(function () {
  "use strict";

  var KEY = "contentsite.unsaved-draft";
  var TYPES = ["text", "url", "number", "date", "time", "datetime-local", "email", "search", "checkbox"];

  function signedIn() {  // who is signed in on this page (templates/admin/base_site.html), or null
    var meta = document.querySelector('meta[name="staff-user"]');
    return meta ? meta.getAttribute("content") : null;
  }

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

  function setValue(field, value) {
    if (field.type === "checkbox") {
      field.checked = value === "on";
    } else if (field.tagName === "SELECT") {
      var values = value.split("\n");
      Array.prototype.forEach.call(field.options, function (option) {
        option.selected = values.indexOf(option.value) !== -1;
      });
      if (valueOf(field) !== value) { return false; }
    } else {
      field.value = value;
    }
    field.dispatchEvent(new Event("input", {bubbles: true}));
    field.dispatchEvent(new Event("change", {bubbles: true}));
    return true;
  }

  function load() {
    try { return JSON.parse(window.sessionStorage.getItem(KEY) || "null"); } catch (error) { return null; }
  }

  function store(copy) {
    try {
      if (copy) { window.sessionStorage.setItem(KEY, JSON.stringify(copy)); } else { window.sessionStorage.removeItem(KEY); }
    } catch (error) { /* storage off or full: the forms work as before */ }
  }

  // 1. No other form is sent from a page whose draft has unsaved changes.
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

  // 2. Each save keeps a copy of what it changed, until the answer shows it was saved or shows the form again.
  document.addEventListener("submit", function (event) {
    var form = draftForm();
    if (!form || event.target !== form || event.defaultPrevented) { return; }
    var changes = unsaved(form).map(function (field) {
      return {name: field.name, value: valueOf(field), shown: shownValueOf(field), label: labelOf(field)};
    });
    store(changes.length ? {
      path: window.location.pathname, user: signedIn(), at: new Date().toISOString(), fields: changes
    } : null);
  });

  function addRowsFor(form, name) {
    var row = name.match(/^(.+)-(\d+)-/);
    if (!row) { return; }
    var total = form.elements.namedItem(row[1] + "-TOTAL_FORMS");
    var add = document.querySelector("#" + CSS.escape(row[1]) + "-group .add-row a");
    for (var tries = 0; total && add && Number(total.value) <= Number(row[2]) && tries < 100; tries += 1) {
      add.click();
    }
  }

  function putBack(form, copy, notice) {
    var notRestored = [];
    var restored = 0;
    copy.fields.forEach(function (saved) {
      var field = form.elements.namedItem(saved.name);
      if (!field) { addRowsFor(form, saved.name); field = form.elements.namedItem(saved.name); }
      if (field && field.length && !field.tagName) { field = field[0]; }
      var now = field ? valueOf(field) : null;
      if (field && (now === saved.value || (now === saved.shown && setValue(field, saved.value)))) {
        restored += 1;
      } else {
        notRestored.push(saved);
      }
    });
    notice.textContent = "";
    var done = document.createElement("p");
    done.textContent = restored + " change" + (restored === 1 ? " is" : "s are") + " back in the form. " +
      (restored === 1 ? "Check it" : "Check them") + ", then save.";
    notice.appendChild(done);
    if (notRestored.length) {
      var intro = document.createElement("p");
      intro.textContent = "Not put back, because the draft has changed there since you opened it, or the row is " +
        "gone. Your words are below to copy:";
      notice.appendChild(intro);
      notRestored.forEach(function (saved) {
        var label = document.createElement("label");
        label.textContent = saved.label;
        var text = document.createElement("textarea");
        text.readOnly = true;
        text.value = saved.value;
        label.appendChild(text);
        notice.appendChild(label);
      });
    }
    store(null);
  }

  function offer(form, copy) {
    var pending = copy.fields.filter(function (saved) {
      var field = form.elements.namedItem(saved.name);
      return !field || !field.tagName || valueOf(field) !== saved.value;
    });
    if (!pending.length) { return; }  // on the page already (Back keeps a form's values): nothing to offer
    var notice = document.createElement("div");
    notice.className = "unsaved-copy errornote";
    notice.setAttribute("role", "alert");
    var when = new Date(copy.at);
    var clock = {hour: "2-digit", minute: "2-digit", hourCycle: "h23"};
    var time = isNaN(when.getTime()) ? "" : " at " + when.toLocaleTimeString([], clock);
    var text = document.createElement("p");
    text.textContent = "Changes you sent" + time + " were not saved (you had been signed out, or the page was out " +
      "of date): " + pending.length + " field" + (pending.length === 1 ? "" : "s") + ". This browser tab kept them.";
    var back = document.createElement("button");
    back.type = "button";
    back.className = "button";
    back.textContent = "Put them back in the form";
    back.addEventListener("click", function () { putBack(form, copy, notice); });
    var drop = document.createElement("button");
    drop.type = "button";
    drop.className = "button";
    drop.textContent = "Discard them";
    drop.addEventListener("click", function () { store(null); notice.remove(); });
    notice.appendChild(text);
    notice.appendChild(back);
    notice.appendChild(document.createTextNode(" "));
    notice.appendChild(drop);
    form.insertBefore(notice, form.firstChild);
  }

  // When the page is parsed, not loaded: on a slow line its images and styles can take a minute more.
  document.addEventListener("DOMContentLoaded", function () {
    var copy = load();
    if (!copy) { return; }
    if (document.querySelector(".messagelist .success")) { store(null); return; }  // saved
    var form = draftForm();
    if (!form || copy.path !== window.location.pathname || !Array.isArray(copy.fields)) { return; }
    if (!copy.user || copy.user !== signedIn()) { return; }  // someone else's words: never offered to another
    // Shown again with a refusal, the form holds what was sent, so nothing is offered; the copy is kept: a stale
    // save's refusal says to reload the draft and apply the changes again, and a reload empties the form.
    offer(form, copy);
  });
})();
