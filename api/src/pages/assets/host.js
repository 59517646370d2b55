// Host check-in, enhanced: check-ins and undos are sent without reloading the page, the
// search box filters as you type, and the roster is fetched again every 1.5 seconds so hosts
// sharing one link see each other's check-ins. Without this script every button is a plain
// form POST and the page still works.
(function () {
  "use strict";
  var roster = document.getElementById("roster");
  var search = document.getElementById("q");
  if (!roster) return;
  var url = roster.getAttribute("data-src");

  function filter() {
    if (!search) return;
    var needle = search.value.trim().toLowerCase();
    var rows = roster.querySelectorAll("li[data-search]");
    for (var i = 0; i < rows.length; i++) {
      rows[i].hidden = needle !== "" && rows[i].getAttribute("data-search").indexOf(needle) === -1;
    }
  }

  var busy = false;
  function refresh() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null) { roster.innerHTML = html; filter(); }
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }

  roster.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form || form.tagName !== "FORM") return;
    e.preventDefault();
    var button = form.querySelector("button");
    if (button) button.disabled = true;
    fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin" })
      .catch(function () {})
      .then(function () { busy = false; refresh(); });
  });

  if (search) {
    search.addEventListener("input", filter);
    var plain = document.getElementById("search-button");
    if (plain) plain.hidden = true;
  }
  setInterval(refresh, 1500);
})();
