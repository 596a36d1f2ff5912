// Steward: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // Forms with data-confirm ask before they submit (e.g. removing a dependency).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // Tables with class "sortable": a button in each header sorts the rows shown.
  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    var explicit = cell.getAttribute("data-sort");
    return explicit !== null ? explicit : cell.textContent.trim().toLowerCase();
  }

  function compare(a, b) {
    var na = parseFloat(a), nb = parseFloat(b);
    if (!isNaN(na) && !isNaN(nb) && String(na) === a.trim() && String(nb) === b.trim()) {
      return na - nb;
    }
    return a.localeCompare(b, undefined, { numeric: true });
  }

  function makeSortable(table) {
    var body = table.tBodies[0];
    if (!body || body.rows.length < 2) return;
    var headers = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(headers, function (th, index) {
      if (!th.textContent.trim()) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort-button";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(headers, function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (r1, r2) {
          var result = compare(cellValue(r1, index), cellValue(r2, index));
          return ascending ? result : -result;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  document.querySelectorAll("table.sortable").forEach(makeSortable);

  // Maps: a moderately wide map is fitted to the page; a very large one stays at
  // actual size and opens scrolled to what matters: the service looked for, the
  // first failing one, the first highlighted one, or else its middle.
  function cssEscape(text) {
    return window.CSS && CSS.escape ? CSS.escape(text) : text.replace(/["\\]/g, "\\$&");
  }

  function nodeNamed(box, name) {
    return name ? box.querySelector('g.node[data-service="' + cssEscape(name) + '"]') : null;
  }

  function reveal(box) {
    if (box.classList.contains("fit") || box.scrollWidth <= box.clientWidth) return;
    var target = nodeNamed(box, box.getAttribute("data-focus")) ||
      nodeNamed(box, box.getAttribute("data-scroll-to")) ||
      box.querySelector("g.node.highlight");
    var rect = target ? target.querySelector("rect") : null;
    if (rect) {
      var x = parseFloat(rect.getAttribute("x")) + parseFloat(rect.getAttribute("width")) / 2;
      box.scrollLeft = Math.max(0, x - box.clientWidth / 2);
    } else {
      box.scrollLeft = (box.scrollWidth - box.clientWidth) / 2;
    }
  }

  document.querySelectorAll(".map-scroll").forEach(function (box) {
    var svg = box.querySelector("svg");
    if (!svg) return;
    var focused = nodeNamed(box, box.getAttribute("data-focus"));
    if (focused) {
      focused.classList.add("focused");
      focused.scrollIntoView({ block: "center", inline: "center" });
    }
    var natural = parseFloat(svg.getAttribute("width")) || 0;
    var available = box.clientWidth || 1;
    if (natural <= available) return;  // already fits
    var tools = document.createElement("div");
    tools.className = "map-tools";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-small";
    tools.appendChild(button);
    box.parentNode.insertBefore(tools, box);
    function apply(fit) {
      box.classList.toggle("fit", fit);
      button.textContent = fit ? "Show actual size" : "Fit to width";
      button.setAttribute("aria-pressed", fit ? "true" : "false");
    }
    button.addEventListener("click", function () {
      apply(!box.classList.contains("fit"));
      reveal(box);
    });
    apply(natural <= available * 1.35);  // labels stay at 9px or more
    reveal(box);
  });

  // The calendar's window form: only the fields of the chosen schedule are shown
  // (without this script both sets show, and the server reads the chosen one).
  document.querySelectorAll("form#add-window").forEach(function (form) {
    var once = form.querySelector("fieldset[data-schedule='once']");
    var weekly = form.querySelector("fieldset[data-schedule='weekly']");
    if (!once || !weekly) return;
    function sync() {
      var chosen = form.querySelector("input[name=schedule]:checked");
      var isWeekly = !!chosen && chosen.value === "weekly";
      once.hidden = isWeekly;
      weekly.hidden = !isWeekly;
    }
    form.addEventListener("change", sync);
    sync();
  });

  // The incident list reloads its table every so often (data-refresh seconds): not
  // while paused, not while a form field has the focus, not while the tab is hidden.
  // Without this script the page's own Refresh link does the same by hand.
  document.querySelectorAll("#incident-live[data-refresh]").forEach(function (live) {
    var seconds = parseInt(live.getAttribute("data-refresh"), 10) || 30;
    var paused = false;
    var busy = false;
    var line = live.querySelector(".live-line");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-small btn-quiet";
    button.id = "live-toggle";
    function label() {
      button.textContent = paused ? "Resume auto-refresh" : "Pause auto-refresh";
      button.setAttribute("aria-pressed", paused ? "true" : "false");
    }
    button.addEventListener("click", function () { paused = !paused; label(); });
    label();
    if (line) line.appendChild(button);

    function typing() {
      var el = document.activeElement;
      return !!el && /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName);
    }

    function reload() {
      if (paused || busy || document.hidden || typing()) return;
      busy = true;
      fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (!response.ok || response.redirected) throw new Error("stale");
          return response.text();
        })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html")
            .querySelector("#incident-live");
          if (!fresh || paused || typing()) return;
          ["#open-count", "#updated-at", ".pager", ".table-wrap"].forEach(function (selector) {
            var now = live.querySelectorAll(selector);
            var next = fresh.querySelectorAll(selector);
            for (var i = 0; i < now.length && i < next.length; i += 1) {
              now[i].replaceWith(document.importNode(next[i], true));
            }
          });
          live.querySelectorAll("table.sortable").forEach(makeSortable);
          var badge = document.getElementById("nav-open-incidents");
          var count = live.querySelector("#open-count");
          if (badge && count && badge.firstChild) {
            badge.firstChild.nodeValue = "(" + count.textContent.trim();
            badge.hidden = count.textContent.trim() === "0";
          }
        })
        .catch(function () { paused = true; label(); })  // signed out or server gone: stop
        .then(function () { busy = false; });
    }
    window.setInterval(reload, seconds * 1000);
  });
})();
