/* A checkbox that reveals a group of fields: `<input type="checkbox" data-reveals aria-controls="ID">`
 * shows the element ID while it is ticked and hides it (the `hidden` attribute) while it is not.
 * Progressive enhancement: without JavaScript the element stays visible, and the server ignores its
 * fields when the box is not ticked. A page shown again after a validation error keeps the box's
 * state, so its fields are shown when it was ticked. */
(function () {
  "use strict";

  function start() {
    document.querySelectorAll("input[type=checkbox][data-reveals][aria-controls]").forEach(function (box) {
      var target = document.getElementById(box.getAttribute("aria-controls"));
      if (!target) {
        return;
      }
      function update() {
        target.hidden = !box.checked;
      }
      update();
      box.addEventListener("change", update);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
