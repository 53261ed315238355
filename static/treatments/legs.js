// The leg diagram as a control: each area toggles the checkbox of the same area in the list,
// and the list keeps the diagram in step. Rows of per-area details follow the choice.
(function () {
  function boxFor(form, field, key) {
    return form.querySelector('input[type="checkbox"][name="' + field + '"][value="' + key + '"]');
  }
  function showRow(form, key, on) {
    var row = form.querySelector('[data-area-row="' + key + '"]');
    if (row) { row.hidden = !on; }
  }
  function sync(diagram, form, field, key) {
    var box = boxFor(form, field, key);
    var on = box ? box.checked : false;
    diagram.querySelectorAll('[data-region="' + key + '"]').forEach(function (shape) {
      shape.setAttribute("aria-pressed", on ? "true" : "false");
    });
    showRow(form, key, on);
    var empty = form.querySelector("[data-no-areas]");
    if (empty) { empty.hidden = form.querySelectorAll('input[name="' + field + '"]:checked').length > 0; }
  }
  function toggle(diagram, form, field, key) {
    var box = boxFor(form, field, key);
    if (!box) { return; }
    box.checked = !box.checked;
    sync(diagram, form, field, key);
  }
  document.querySelectorAll("[data-leg-diagram]").forEach(function (diagram) {
    var form = diagram.closest("form");
    var field = diagram.dataset.field;
    diagram.querySelectorAll("[data-region]").forEach(function (shape) {
      var key = shape.dataset.region;
      shape.addEventListener("click", function () { toggle(diagram, form, field, key); });
      shape.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          toggle(diagram, form, field, key);
        }
      });
    });
    form.querySelectorAll('input[type="checkbox"][name="' + field + '"]').forEach(function (box) {
      box.addEventListener("change", function () { sync(diagram, form, field, box.value); });
      sync(diagram, form, field, box.value);
    });
    // With the script running, rows follow the clicks: the no-script refresh button is not needed.
    form.querySelectorAll("[data-refresh-areas]").forEach(function (button) { button.hidden = true; });
  });
})();
