// The rubric builder without reloads (templates/instructor/rubrics/builder.html).
//
// Without JavaScript every "add", "move" and "remove" button posts the whole form and the
// server applies that one change (services/rubrics/builder.py), keeping what was typed. With
// this script the same buttons change the page in place: rows are copied from the page's
// <template> elements, moved or removed, then every field is renumbered the way WTForms names
// FieldList entries (criteria-0-levels-1-title), so "Save" posts exactly what the server-side
// buttons would have produced. Focus goes where the change happened and a polite aria-live
// region says what changed, so a keyboard or screen-reader user knows the click worked.
(function () {
  "use strict";

  var form = document.querySelector("form[data-rubric-builder]");
  var criterionTemplate = document.getElementById("criterion-template");
  var levelTemplate = document.getElementById("level-template");
  if (!form || !criterionTemplate || !levelTemplate || !("content" in criterionTemplate)) {
    return;  // the server-side buttons keep working
  }
  var list = form.querySelector("[data-criteria]");
  var status = form.querySelector("[data-builder-status]");
  var maxCriteria = parseInt(form.getAttribute("data-max-criteria"), 10) || 100;
  var maxLevels = parseInt(form.getAttribute("data-max-levels"), 10) || 20;
  var RENAMED = ["id", "name", "for", "aria-describedby", "formaction"];
  var CRITERION_BUTTON = /^(criterion-up|criterion-down|remove-criterion|add-level)-(\d+|__i__)$/;
  var LEVEL_BUTTON = /^(level-up|level-down|remove-level)-(\d+|__i__)-(\d+|__j__)$/;

  function children(parent, marker) {
    return Array.prototype.filter.call(parent.children, function (child) {
      return child.hasAttribute(marker);
    });
  }

  function criteria() { return children(list, "data-criterion"); }

  function levels(criterion) {
    return children(criterion.querySelector("[data-levels]"), "data-level");
  }

  function each(root, selector, callback) {
    Array.prototype.forEach.call(root.querySelectorAll(selector), callback);
  }

  function rename(root, pattern, replacement) {
    var nodes = [root].concat(Array.prototype.slice.call(root.querySelectorAll("*")));
    nodes.forEach(function (node) {
      RENAMED.forEach(function (attribute) {
        var value = node.getAttribute(attribute);
        if (value !== null) { node.setAttribute(attribute, value.replace(pattern, replacement)); }
      });
    });
  }

  function setHidden(element, hidden) {
    if (element) { element.hidden = hidden; }
  }

  function button(root, prefix) {
    var found = null;
    each(root, "button[name='action']", function (candidate) {
      if (!found && candidate.value.indexOf(prefix) === 0) { found = candidate; }
    });
    return found;
  }

  // Name every field after its position, as the server would after the same change.
  function renumber() {
    var rows = criteria();
    rows.forEach(function (criterion, i) {
      rename(criterion, /criteria-(\d+|__i__)/g, "criteria-" + i);
      each(criterion, "[data-criterion-number]", function (span) { span.textContent = i + 1; });
      each(criterion, "button[name='action']", function (control) {
        control.value = control.value.replace(CRITERION_BUTTON, "$1-" + i);
      });
      setHidden(button(criterion.querySelector(".criterion-actions"), "criterion-up"), i === 0);
      setHidden(
        button(criterion.querySelector(".criterion-actions"), "criterion-down"),
        i === rows.length - 1
      );
      var rowLevels = levels(criterion);
      rowLevels.forEach(function (level, k) {
        rename(level, /(criteria-\d+-levels-)(\d+|__j__)/g, "$1" + k);
        each(level, "[data-level-number]", function (span) { span.textContent = k + 1; });
        each(level, "button[name='action']", function (control) {
          control.value = control.value.replace(LEVEL_BUTTON, "$1-" + i + "-" + k);
        });
        setHidden(button(level, "level-up"), k === 0);
        setHidden(button(level, "level-down"), k === rowLevels.length - 1);
      });
      setHidden(button(criterion, "add-level"), rowLevels.length >= maxLevels);
    });
    setHidden(button(list, "add-criterion"), rows.length >= maxCriteria);
    setHidden(list.querySelector("[data-no-criteria]"), rows.length > 0);
  }

  // A free id such as c3 or l4, the way services/rubrics/builder.py picks one.
  function freshId(prefix, rows) {
    var used = rows.map(function (row) {
      var field = row.querySelector("input[type='hidden'][name$='-id']");
      return field ? field.value : "";
    });
    var number = rows.length + 1;
    while (used.indexOf(prefix + number) !== -1) { number += 1; }
    return prefix + number;
  }

  function fromTemplate(template, marker) {
    return template.content.querySelector("[" + marker + "]").cloneNode(true);
  }

  function idField(row) {
    return row.querySelector("input[type='hidden'][name$='-id']");
  }

  // The sentence for `key` from the status element's data attributes (rendered translated by
  // the server), with its {n}, {k} and {total} filled in.
  function say(key, values) {
    var text = status ? status.getAttribute("data-" + key) || "" : "";
    Object.keys(values).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    announce(text);
  }

  function announce(message) {
    if (!status) { return; }
    status.textContent = "";
    // A new text node after a tick, so the same message twice is announced twice.
    window.setTimeout(function () { status.textContent = message; }, 50);
  }

  function focusTitle(row) {
    var title = row.querySelector("input[type='text']");
    if (title) { title.focus(); }
  }

  function focusMoved(row, wanted, fallback) {
    var target = button(row, wanted);
    if (!target || target.hidden) { target = button(row, fallback); }
    if (target) { target.focus(); }
  }

  function addCriterion() {
    var rows = criteria();
    var row = fromTemplate(criterionTemplate, "data-criterion");
    idField(row).value = freshId("c", rows);
    var anchor = button(list, "add-criterion").parentNode;
    list.insertBefore(row, anchor);
    renumber();
    focusTitle(row);
    say("criterion-added", { n: criteria().length });
  }

  function addLevel(criterion) {
    var rowLevels = levels(criterion);
    var level = fromTemplate(levelTemplate, "data-level");
    idField(level).value = freshId("l", rowLevels);
    var holder = criterion.querySelector("[data-levels]");
    holder.insertBefore(level, button(holder, "add-level"));
    renumber();
    focusTitle(level);
    say("level-added", { k: levels(criterion).length, n: criteria().indexOf(criterion) + 1 });
  }

  function remove(row, siblings, kind, fallback) {
    var index = siblings.indexOf(row);
    var next = siblings[index + 1] || siblings[index - 1] || null;
    row.parentNode.removeChild(row);
    renumber();
    if (next) { focusTitle(next); } else if (fallback) { fallback.focus(); }
    say(kind + "-removed", kind === "criterion" ? { n: index + 1 } : { k: index + 1 });
  }

  function move(row, siblings, up, kind) {
    var index = siblings.indexOf(row);
    var other = siblings[up ? index - 1 : index + 1];
    if (!other) { return; }
    if (up) { row.parentNode.insertBefore(row, other); } else { row.parentNode.insertBefore(other, row); }
    renumber();
    var direction = up ? "up" : "down";
    focusMoved(row, kind + "-" + direction, kind + "-" + (up ? "down" : "up"));
    var position = siblings.indexOf(other) + 1;
    say(kind + "-" + direction, kind === "criterion"
      ? { n: position, total: siblings.length }
      : { k: position, total: siblings.length });
  }

  form.addEventListener("click", function (event) {
    var control = event.target.closest ? event.target.closest("button[name='action']") : null;
    if (!control || !form.contains(control)) { return; }
    var value = control.value;
    var criterion = control.closest("[data-criterion]");
    var level = control.closest("[data-level]");
    if (value === "add-criterion") {
      addCriterion();
    } else if (criterion && /^add-level-/.test(value)) {
      addLevel(criterion);
    } else if (criterion && level && /^remove-level-/.test(value)) {
      remove(level, levels(criterion), "level", button(criterion, "add-level"));
    } else if (criterion && level && /^level-(up|down)-/.test(value)) {
      move(level, levels(criterion), /^level-up-/.test(value), "level");
    } else if (criterion && /^remove-criterion-/.test(value)) {
      remove(criterion, criteria(), "criterion", button(list, "add-criterion"));
    } else if (criterion && /^criterion-(up|down)-/.test(value)) {
      move(criterion, criteria(), /^criterion-up-/.test(value), "criterion");
    } else {
      return;  // save and preview go to the server
    }
    event.preventDefault();
  });
}());
