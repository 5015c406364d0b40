// authcheck dashboard: keyboard navigation of the queue (j/k, Enter, /). No inline handlers:
// everything is attached here, so the CSP needs no 'unsafe-inline'.
(function () {
  "use strict";

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("table.queue tr.row"));
  }

  function selectedIndex(list) {
    for (var i = 0; i < list.length; i++) {
      if (list[i].classList.contains("selected")) return i;
    }
    return -1;
  }

  function select(list, index) {
    if (!list.length) return;
    index = Math.max(0, Math.min(list.length - 1, index));
    list.forEach(function (row) {
      row.classList.remove("selected");
      row.removeAttribute("aria-selected");
    });
    var row = list[index];
    row.classList.add("selected");
    row.setAttribute("aria-selected", "true");
    var link = row.querySelector("a.open");
    if (link) link.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
    sessionStorage.setItem("authcheck.selected", row.id);
  }

  function typing(target) {
    var tag = (target && target.tagName) || "";
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    var list = rows();
    var current = selectedIndex(list);
    if (event.key === "j") {
      select(list, current + 1);
      event.preventDefault();
    } else if (event.key === "k") {
      select(list, current < 0 ? 0 : current - 1);
      event.preventDefault();
    } else if (event.key === "Enter" && current >= 0 && document.activeElement === document.body) {
      var link = list[current].querySelector("a.open");
      if (link) window.location.assign(link.href);
    } else if (event.key === "/") {
      var search = document.getElementById("q");
      if (search) {
        search.focus();
        search.select();
        event.preventDefault();
      }
    }
  });

  // Keep the selection when a polled row is replaced by htmx.
  document.addEventListener("htmx:afterSwap", function (event) {
    var remembered = sessionStorage.getItem("authcheck.selected");
    var target = event.detail && event.detail.elt;
    if (target && remembered && target.id === remembered) target.classList.add("selected");
  });

  // Buttons that ask before acting (no inline onclick under the CSP).
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
})();
