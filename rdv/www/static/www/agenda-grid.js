/* The agenda's time grid (templates bookings/_agenda_grid*.html): keyboard navigation of the
   half-hour cells, moving a RDV by drag and drop or by the keyboard, the move dialog, the refresh.

   The server renders and places everything; this script never decides a move: it proposes one
   (a day, a time and an agent) and shows the server's answer (rdv.bookings.services.move_rdv
   re-checks it). Without this script every half-hour is still a link to the booking form and
   every RDV links to its page and to the move form. */
(function () {
  "use strict";

  var grid = document.getElementById("agenda-grille");
  if (!grid) {
    return;
  }
  var announcer = document.getElementById("agenda-annonce");
  var helpBox = document.getElementById("agenda-deplacement-aide");
  var helpState = document.getElementById("agenda-deplacement-etat");
  var helpCancel = document.getElementById("agenda-deplacement-annuler");
  var formLink = document.getElementById("agenda-deplacement-formulaire");
  var dialog = document.getElementById("agenda-deplacement");
  var dialogContent = document.getElementById("agenda-deplacement-contenu");
  var messageBox = document.getElementById("agenda-message");
  var SNAP = parseInt(grid.dataset.snap, 10) || 15;
  var SLOT = 30; // minutes of a half-hour cell (rdv.www.agenda_grid.SLOT_MINUTES)
  var DRAG_THRESHOLD = 6;
  var TEXT = {
    moving: "Déplacement du rendez-vous de ",
    proposed: "Nouvel horaire proposé : ",
    keys: "Flèches pour choisir, Entrée pour valider, Échap pour annuler.",
    cancelled: "Déplacement annulé : le rendez-vous reste à son horaire.",
    same: "C'est l'horaire actuel : rien à déplacer.",
    at: " à ",
    offline: "Le serveur ne répond pas : rien n'a été modifié. Réessayez dans un instant.",
    notMoved: "Le rendez-vous n'est pas déplacé"
  };

  var move = null; // the RDV being moved: {li, handle, mode, body, top, span, duration, origin}
  var pending = null; // a pointer pressed on a RDV, not yet dragged far enough
  var dialogOpen = false;
  var moved = false; // the dialog's move succeeded
  var suppressClick = false;
  var focusAfterSwap = null; // {id, selector}
  var currentCellId = null;
  var scrollKept = null;
  var dialogScroll = null; // where the grid was scrolled when the dialog opened
  var nowBase = [];

  /* Helpers ------------------------------------------------------------------------------- */

  function inner() {
    return grid.querySelector(".agenda-grid__inner");
  }

  function range() {
    var el = inner();
    return { first: parseInt(el.dataset.firstMinute, 10), last: parseInt(el.dataset.lastMinute, 10) };
  }

  function bodies() {
    return Array.prototype.slice.call(grid.querySelectorAll(".agenda-grid__body"));
  }

  function pad(number) {
    return (number < 10 ? "0" : "") + number;
  }

  function clock(minuteOfDay) {
    return pad(Math.floor(minuteOfDay / 60)) + ":" + pad(minuteOfDay % 60);
  }

  function cssNumber(el, name) {
    return parseFloat(el.style.getPropertyValue(name)) || 0;
  }

  function announce(text) {
    announcer.textContent = "";
    window.setTimeout(function () {
      announcer.textContent = text;
    }, 50);
  }

  /* The half-hour cells: one tab stop, arrows move (roving tabindex) ------------------------- */

  function cellsOf(body) {
    return Array.prototype.slice.call(body.querySelectorAll(".agenda-grid__cell"));
  }

  function initialCell() {
    var kept = currentCellId && document.getElementById(currentCellId);
    if (kept) {
      return kept;
    }
    var now = grid.querySelector(".agenda-grid__now");
    if (now) {
      var todays = cellsOf(now.closest(".agenda-grid__body"));
      var index = Math.floor(cssNumber(now, "--top") / SLOT);
      if (todays[index]) {
        return todays[index];
      }
    }
    return grid.querySelector(".agenda-grid__cell");
  }

  function setupCells() {
    var cells = grid.querySelectorAll(".agenda-grid__cell");
    for (var i = 0; i < cells.length; i++) {
      cells[i].tabIndex = -1;
    }
    var first = initialCell();
    if (first) {
      first.tabIndex = 0;
      currentCellId = first.id;
    }
  }

  function focusCell(cell) {
    if (!cell) {
      return;
    }
    var previous = currentCellId && document.getElementById(currentCellId);
    if (previous) {
      previous.tabIndex = -1;
    }
    cell.tabIndex = 0;
    currentCellId = cell.id;
    cell.focus();
  }

  function neighbourCell(cell, key) {
    var body = cell.closest(".agenda-grid__body");
    var cells = cellsOf(body);
    var index = cells.indexOf(cell);
    if (key === "ArrowUp") return cells[index - 1] || null;
    if (key === "ArrowDown") return cells[index + 1] || null;
    if (key === "PageUp") return cells[Math.max(0, index - 4)];
    if (key === "PageDown") return cells[Math.min(cells.length - 1, index + 4)];
    if (key === "Home") return cells[0];
    if (key === "End") return cells[cells.length - 1];
    if (key === "ArrowLeft" || key === "ArrowRight") {
      var all = bodies();
      var other = all[all.indexOf(body) + (key === "ArrowLeft" ? -1 : 1)];
      if (!other) return null;
      return cellsOf(other)[index]; // every column has the same half-hours
    }
    return undefined;
  }

  /* Moving a RDV: a ghost at the proposed place, by pointer or by keyboard ------------------- */

  function describeTarget() {
    var start = range().first + move.top;
    return clock(start) + ", " + move.body.dataset.label;
  }

  function placeGhost() {
    var start = range().first + move.top;
    move.ghost.style.setProperty("--top", move.top);
    move.ghost.style.setProperty("--span", move.span);
    move.ghost.textContent = clock(start) + "–" + clock(start + move.duration);
    if (move.ghost.parentNode !== move.body) {
      move.body.appendChild(move.ghost);
    }
    if (move.mode === "keyboard") {
      helpState.textContent = TEXT.proposed + describeTarget() + ".";
    }
  }

  function startMove(li, mode) {
    cancelMove(false);
    var body = li.closest(".agenda-grid__body");
    move = {
      li: li,
      handle: li.querySelector(".agenda-grid__move"),
      mode: mode,
      body: body,
      top: cssNumber(li, "--top"),
      span: parseInt(li.dataset.duration, 10) || cssNumber(li, "--span"),
      duration: parseInt(li.dataset.duration, 10) || cssNumber(li, "--span"),
      origin: { body: body, top: cssNumber(li, "--top") },
      ghost: document.createElement("div")
    };
    move.ghost.className = "agenda-grid__ghost";
    move.ghost.setAttribute("aria-hidden", "true");
    li.classList.add("agenda-grid__rdv--moving");
    placeGhost();
    if (mode === "keyboard") {
      grid.classList.add("agenda-grid--placing");
      formLink.href = li.dataset.formUrl;
      helpBox.hidden = false;
      var label = li.querySelector(".agenda-grid__rdv-time").textContent;
      announce(TEXT.moving + label + ". " + TEXT.proposed + describeTarget() + ". " + TEXT.keys);
    } else {
      grid.classList.add("agenda-grid--dragging");
    }
  }

  function cancelMove(tell) {
    if (!move) {
      return;
    }
    var handle = move.handle;
    var mode = move.mode;
    move.ghost.remove();
    move.li.classList.remove("agenda-grid__rdv--moving");
    grid.classList.remove("agenda-grid--placing", "agenda-grid--dragging");
    helpBox.hidden = true;
    move = null;
    if (tell) {
      announce(TEXT.cancelled);
      if (mode === "keyboard" && handle && document.contains(handle)) {
        handle.focus();
      }
    }
  }

  function stepMove(minutes, columns) {
    var span = range().last - range().first;
    if (columns) {
      var all = bodies();
      var next = all[all.indexOf(move.body) + columns];
      if (!next) {
        return;
      }
      move.body = next;
    }
    move.top = Math.min(Math.max(0, move.top + minutes), Math.max(0, span - SNAP));
    placeGhost();
    announce(describeTarget());
  }

  function moveToPoint(x, y) {
    var all = bodies();
    for (var i = 0; i < all.length; i++) {
      var rect = all[i].getBoundingClientRect();
      if (x >= rect.left && x < rect.right) {
        var span = range().last - range().first;
        var perMinute = rect.height / span;
        var minutes = Math.round((y - rect.top) / perMinute / SNAP) * SNAP;
        move.body = all[i];
        move.top = Math.min(Math.max(0, minutes), Math.max(0, span - SNAP));
        placeGhost();
        return;
      }
    }
  }

  function commitMove() {
    if (move.body === move.origin.body && move.top === move.origin.top) {
      announce(TEXT.same);
      cancelMove(false);
      return;
    }
    var params = new URLSearchParams();
    params.set("debut", move.body.dataset.day + "T" + clock(range().first + move.top));
    params.set("agent", move.body.dataset.agent);
    params.set("depuis", move.li.dataset.agent);
    openDialog(move.li.dataset.moveUrl + "?" + params.toString());
  }

  /* The move dialog (DSFR modal): the server's confirmation, refusal or success ---------------- */

  function focusDialog() {
    var target =
      dialogContent.querySelector("button[type=submit]") || dialogContent.querySelector("[data-agenda-cancel]");
    if (target && dialogOpen) {
      target.focus();
    }
  }

  function focusDialogSoon() {
    /* DSFR gives the focus to the modal's first button (« Fermer ») once its opening is done, which
       comes later on a busy machine: the answer's button takes it back, until a key is pressed or
       for a second and a half at most. */
    var until = Date.now() + 1500;
    var stopped = false;
    function stop() {
      stopped = true;
    }
    dialog.addEventListener("keydown", stop, { once: true });
    (function check() {
      if (stopped || !dialogOpen || Date.now() > until) {
        dialog.removeEventListener("keydown", stop);
        return;
      }
      var active = document.activeElement;
      if (!dialog.contains(active) || active === dialog.querySelector(".fr-btn--close")) {
        focusDialog();
      }
      window.requestAnimationFrame(check);
    })();
  }

  function showFragment(html) {
    dialogContent.innerHTML = html;
    focusDialog();
  }

  function offline() {
    var box = document.createElement("div");
    box.className = "fr-alert fr-alert--error";
    box.setAttribute("role", "alert");
    var title = document.createElement("h2");
    title.className = "fr-alert__title";
    title.textContent = TEXT.notMoved;
    var text = document.createElement("p");
    text.textContent = TEXT.offline;
    box.appendChild(title);
    box.appendChild(text);
    dialogContent.textContent = "";
    dialogContent.appendChild(box);
  }

  function disclose() {
    if (window.dsfr) {
      window.dsfr(dialog).modal.disclose();
    } else {
      dialog.showModal();
    }
  }

  function conceal() {
    if (window.dsfr) {
      window.dsfr(dialog).modal.conceal();
    } else {
      dialog.close();
      onConcealed();
    }
  }

  function openDialog(url) {
    dialogScroll = { top: grid.scrollTop, left: grid.scrollLeft };
    dialogOpen = true;
    moved = false;
    dialogContent.textContent = "";
    fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) {
        return response.text();
      })
      .then(function (html) {
        dialogContent.innerHTML = html;
        disclose();
        focusDialogSoon();
      })
      .catch(function () {
        offline();
        disclose();
      });
  }

  function submitMove(form) {
    var body = new FormData(form);
    var buttons = form.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].disabled = true;
    }
    fetch(form.action, {
      method: "POST",
      body: body,
      headers: { "HX-Request": "true" },
      credentials: "same-origin"
    })
      .then(function (response) {
        return response.text().then(function (html) {
          return { html: html, moved: response.headers.get("X-Agenda-Deplace") };
        });
      })
      .then(function (answer) {
        if (answer.moved) {
          moved = true;
          messageBox.innerHTML = answer.html;
          focusAfterSwap = { selector: '[id^="agenda-rdv-' + answer.moved + '-"] .agenda-grid__rdv-link' };
          conceal();
        } else {
          showFragment(answer.html);
        }
      })
      .catch(function () {
        offline();
      });
  }

  function onConcealed() {
    if (!dialogOpen) {
      return;
    }
    dialogOpen = false;
    var handle = move && move.handle;
    var link = move && move.li.querySelector(".agenda-grid__rdv-link");
    cancelMove(false);
    if (dialogScroll) {
      grid.scrollTop = dialogScroll.top;
      grid.scrollLeft = dialogScroll.left;
    }
    if (moved) {
      refresh();
    } else {
      announce(TEXT.cancelled);
      var back = handle && document.contains(handle) ? handle : link;
      if (back) {
        window.setTimeout(function () {
          back.focus({ preventScroll: true });
        }, 50);
      }
    }
  }

  /* Refresh (htmx polling of the grid fragment) ---------------------------------------------- */

  function refresh() {
    if (window.htmx) {
      window.htmx.trigger(grid, "agenda-rafraichir");
    }
  }

  function busy() {
    return Boolean(move || pending || dialogOpen);
  }

  function rememberFocus() {
    var active = document.activeElement;
    if (!active || !grid.contains(active)) {
      return null;
    }
    if (active.id) {
      return { id: active.id };
    }
    var li = active.closest(".agenda-grid__rdv");
    if (li && li.id) {
      var part = active.classList.contains("agenda-grid__move") ? ".agenda-grid__move" : ".agenda-grid__rdv-link";
      return { selector: "#" + li.id + " " + part };
    }
    return null;
  }

  function restoreFocus(where) {
    if (!where) {
      return;
    }
    var el = where.id ? document.getElementById(where.id) : grid.querySelector(where.selector);
    if (el) {
      if (el.classList.contains("agenda-grid__cell")) {
        focusCell(el);
      } else {
        el.focus({ preventScroll: !where.selector });
      }
    }
  }

  function startNowLine() {
    // The « now » line and the shade of what is over, in today's columns, move with the clock
    // between two refreshes of the grid.
    nowBase = Array.prototype.map.call(grid.querySelectorAll(".agenda-grid__now"), function (line) {
      var past = line.parentNode.querySelector(".agenda-grid__past");
      return { line: line, past: past, top: cssNumber(line, "--top"), since: Date.now() };
    });
  }

  window.setInterval(function () {
    var span = range().last - range().first;
    nowBase.forEach(function (entry) {
      var top = Math.min(span, entry.top + Math.floor((Date.now() - entry.since) / 60000));
      entry.line.style.setProperty("--top", top);
      entry.line.hidden = top >= span;
      if (entry.past) {
        entry.past.style.setProperty("--span", top);
      }
    });
  }, 30000);

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt === grid && busy()) {
      event.preventDefault();
    }
  });
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt === grid) {
      event.detail.parameters.version = grid.dataset.version;
    }
  });
  document.body.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt === grid && event.detail.xhr) {
      var version = event.detail.xhr.getResponseHeader("X-Agenda-Version");
      if (version) {
        grid.dataset.version = version;
      }
    }
  });
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.elt === grid) {
      if (busy()) {
        event.detail.shouldSwap = false;
        return;
      }
      focusAfterSwap = focusAfterSwap || rememberFocus();
      scrollKept = { top: grid.scrollTop, left: grid.scrollLeft };
    }
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.elt === grid) {
      setupCells();
      startNowLine();
      if (scrollKept) {
        grid.scrollTop = scrollKept.top;
        grid.scrollLeft = scrollKept.left;
      }
      restoreFocus(focusAfterSwap);
      focusAfterSwap = null;
    }
  });

  /* Events --------------------------------------------------------------------------------- */

  grid.addEventListener("focusin", function (event) {
    var cell = event.target.closest(".agenda-grid__cell");
    if (cell && cell.id !== currentCellId) {
      focusCell(cell);
    }
  });

  grid.addEventListener("keydown", function (event) {
    if (move || event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    var cell = event.target.closest(".agenda-grid__cell");
    if (!cell) {
      return;
    }
    var next = neighbourCell(cell, event.key);
    if (next !== undefined) {
      event.preventDefault();
      focusCell(next);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (!move || dialogOpen) {
      return;
    }
    if (event.key === "Escape") {
      event.preventDefault();
      cancelMove(true);
      return;
    }
    if (move.mode !== "keyboard" || document.activeElement !== move.handle) {
      return;
    }
    var steps = {
      ArrowUp: [-SNAP, 0],
      ArrowDown: [SNAP, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
      PageUp: [-4 * SNAP, 0],
      PageDown: [4 * SNAP, 0]
    };
    if (steps[event.key]) {
      event.preventDefault();
      stepMove(steps[event.key][0], steps[event.key][1]);
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      commitMove();
    }
  });

  grid.addEventListener("click", function (event) {
    if (suppressClick) {
      event.preventDefault();
      event.stopPropagation();
      suppressClick = false;
      return;
    }
    var handle = event.target.closest(".agenda-grid__move");
    if (handle) {
      event.preventDefault();
      var li = handle.closest(".agenda-grid__rdv");
      if (move && move.li === li) {
        commitMove();
      } else {
        startMove(li, "keyboard");
        handle.focus();
      }
      return;
    }
    var cell = event.target.closest(".agenda-grid__cell");
    if (cell && move && move.mode === "keyboard") {
      // Placing a RDV chosen with « Déplacer »: the click picks the new time.
      event.preventDefault();
      var body = cell.closest(".agenda-grid__body");
      move.body = body;
      move.top = cellsOf(body).indexOf(cell) * SLOT;
      placeGhost();
      commitMove();
    }
  }, true);

  grid.addEventListener("mousedown", function (event) {
    if (move && move.mode === "keyboard" && event.target.closest(".agenda-grid__cell")) {
      event.preventDefault(); // keep the focus on the RDV being moved
    }
  });

  grid.addEventListener("pointerdown", function (event) {
    // On touch screens a swipe scrolls the grid: « Déplacer » then a tap on the new time moves a RDV.
    if (event.button !== 0 || event.pointerType === "touch" || busy() || event.target.closest(".agenda-grid__move")) {
      return;
    }
    var li = event.target.closest(".agenda-grid__rdv[data-rdv]");
    if (!li) {
      return;
    }
    var rect = li.getBoundingClientRect();
    pending = { li: li, x: event.clientX, y: event.clientY, offset: event.clientY - rect.top };
  });

  document.addEventListener("pointermove", function (event) {
    if (!pending) {
      return;
    }
    if (!move) {
      if (Math.abs(event.clientX - pending.x) + Math.abs(event.clientY - pending.y) < DRAG_THRESHOLD) {
        return;
      }
      startMove(pending.li, "pointer");
    }
    event.preventDefault();
    var box = grid.getBoundingClientRect();
    if (event.clientY < box.top + 24) {
      grid.scrollTop -= 12;
    } else if (event.clientY > box.bottom - 24) {
      grid.scrollTop += 12;
    }
    moveToPoint(event.clientX, event.clientY - pending.offset);
  });

  document.addEventListener("pointerup", function () {
    if (!pending) {
      return;
    }
    pending = null;
    if (move && move.mode === "pointer") {
      suppressClick = true;
      window.setTimeout(function () {
        suppressClick = false;
      }, 0);
      grid.classList.remove("agenda-grid--dragging");
      commitMove();
    }
  });

  document.addEventListener("pointercancel", function () {
    if (pending) {
      pending = null;
      if (move && move.mode === "pointer") {
        cancelMove(true);
      }
    }
  });

  helpCancel.addEventListener("click", function () {
    cancelMove(true);
  });

  dialog.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-agenda-move-form]");
    if (form) {
      event.preventDefault();
      submitMove(form);
    }
  });

  dialog.addEventListener("click", function (event) {
    if (event.target.closest("[data-agenda-cancel]")) {
      conceal();
    }
  });

  dialog.addEventListener("dsfr.conceal", onConcealed);
  dialog.addEventListener("close", onConcealed);

  setupCells();
  startNowLine();
  var now = grid.querySelector(".agenda-grid__now");
  if (now) {
    grid.scrollTop = Math.max(0, now.offsetTop - grid.clientHeight / 3);
  }
})();
