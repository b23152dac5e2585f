/* The RDV form: show the lieu only for a motif « sur place », the address only for a motif « à
 * domicile », the visio link only for a visio motif (elements marked data-motif-types="…", the motif
 * select's options carry data-type). A hidden field is also disabled, so it is not sent.
 * Progressive enhancement: without JavaScript every field stays visible, and the booking service
 * refuses a value the motif does not use. */
(function () {
  "use strict";

  function update(select) {
    var option = select.options[select.selectedIndex];
    var type = option ? option.getAttribute("data-type") : null;
    document.querySelectorAll("[data-motif-types]").forEach(function (element) {
      var shown = type !== null && element.getAttribute("data-motif-types").split(" ").indexOf(type) !== -1;
      element.hidden = !shown;
      element.querySelectorAll("input, select, textarea").forEach(function (input) {
        input.disabled = !shown;
      });
    });
  }

  function start() {
    var select = document.querySelector("select[data-motif-select]");
    if (!select) {
      return;
    }
    update(select);
    select.addEventListener("change", function () {
      update(select);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
