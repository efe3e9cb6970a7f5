/* The display board without reloads (issue 17 §2): every second (data-every, ms) ask
   /board/<centre>.json and replace the rows. Text only (textContent), never HTML: a
   counter's name is shown as written, not run. If an answer fails, the last rows stay
   and a bilingual "reconnecting" line shows until one succeeds again. Without
   JavaScript the page reloads itself instead (<noscript> refresh in board.html). */
(function () {
  "use strict";
  var board = document.getElementById("board");
  var source = board && board.getAttribute("data-source");
  if (!source || !window.fetch) { return; }
  var every = parseInt(board.getAttribute("data-every"), 10) || 1000;
  var rows = document.getElementById("board-called");
  var empty = document.getElementById("board-empty");
  var waiting = document.getElementById("board-waiting");
  var status = document.getElementById("board-status");

  function cell(row, className, az, en) {
    var td = row.insertCell(-1);
    td.className = className;
    td.appendChild(document.createTextNode(az));
    if (en !== undefined) {
      var span = document.createElement("span");
      span.lang = "en";
      span.textContent = en;
      td.appendChild(document.createTextNode(" "));
      td.appendChild(span);
    }
  }

  function show(data) {
    var fresh = document.createElement("tbody");
    fresh.id = rows.id;
    fresh.setAttribute("aria-live", "polite");
    data.called.forEach(function (item, index) {
      var row = fresh.insertRow(-1);
      row.className = item.done ? "done" : "calling" + (index === 0 ? " latest" : "");
      cell(row, "number", item.number);
      cell(row, "counter", item.counter);
      cell(row, "service", item.service.az, item.service.en);
    });
    /* Replace only when something changed: the screen reader's live region speaks
       a change, not every second. */
    if (fresh.innerHTML !== rows.innerHTML) {
      rows.parentNode.replaceChild(fresh, rows);
      rows = fresh;
    }
    var day = document.getElementById("board-day");
    if (day && data.day) {
      day.firstChild.textContent = data.day.az + " ";
      day.lastChild.textContent = data.day.en;
    }
    empty.hidden = data.called.length > 0;
    waiting.textContent = String(data.waiting);
    status.hidden = true;
  }

  function poll() {
    fetch(source, {cache: "no-store", credentials: "omit",
                   headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(show)
      // a failed fetch or an answer show() cannot read: say "reconnecting", and
      // poll again all the same (the board must never freeze until a reload)
      .catch(function () { status.hidden = false; })
      .then(function () { window.setTimeout(poll, every); });
  }

  window.setTimeout(poll, every);
}());
