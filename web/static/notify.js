// boneyard's announcements. The favicon's badge follows the count in the
// title. Once the user asks for it with "Notify me", the new notices the
// page receives (in ul#notices: hub deaths, hubs stuck for a while, orphan
// hub processes; the server decides which, and folds a flapping hub)
// become desktop notifications: one per notice however many tabs are
// open, because only the tab holding the "boneyard-notifier" lock shows
// them and the others hand theirs over on a BroadcastChannel.
(function () {
  "use strict";

  var storeKey = "boneyard.notify";
  var pollMs = 10000;

  // The favicon: a new link element, as browsers re-read only those.
  function updateFavicon() {
    var link = document.getElementById("favicon");
    if (!link) {
      return;
    }
    var m = /^\((\d+)\)/.exec(document.title);
    var n = m ? Math.min(Number(m[1]), 10) : 0;
    var href = n > 0 ? link.getAttribute("data-badge") + n : link.getAttribute("data-plain");
    if (link.getAttribute("href") === href) {
      return;
    }
    var next = link.cloneNode(false);
    next.setAttribute("href", href);
    link.replaceWith(next);
  }

  new MutationObserver(updateFavicon).observe(document.head, { childList: true, subtree: true, characterData: true });
  updateFavicon();

  var button = document.getElementById("notify");
  if (!button || !("Notification" in window)) {
    return;
  }

  function wanted() {
    try {
      return localStorage.getItem(storeKey) === "on";
    } catch (e) {
      return false;
    }
  }

  function setWanted(on) {
    try {
      localStorage.setItem(storeKey, on ? "on" : "off");
    } catch (e) {
      // Storage refused (private mode): the choice lasts for this page.
    }
  }

  function enabled() {
    return wanted() && Notification.permission === "granted";
  }

  function render() {
    var on = enabled();
    button.hidden = false;
    button.setAttribute("aria-pressed", on ? "true" : "false");
    if (Notification.permission === "denied") {
      button.textContent = "Notifications blocked";
      button.title = "This browser blocks notifications from boneyard; allow them in the site settings, then click again.";
    } else {
      button.textContent = on ? "Notifications on" : "Notify me";
      button.title = on
        ? "Click to stop desktop notifications of hub deaths, stuck hubs and orphan hubs."
        : "Get a desktop notification when a hub dies, stays stuck or an orphan hub appears.";
    }
  }

  button.addEventListener("click", function () {
    if (enabled()) {
      setWanted(false);
      render();
      return;
    }
    // Permission is asked for only here, when the user clicks.
    Promise.resolve(Notification.requestPermission()).then(function (permission) {
      setWanted(permission === "granted");
      render();
    });
  });

  window.addEventListener("storage", function (e) {
    if (e.key === storeKey) {
      render();
    }
  });
  render();

  // One tab shows the notifications: the one holding the lock, until it
  // closes and the next in line takes it.
  var leader = !navigator.locks;
  if (navigator.locks) {
    navigator.locks.request("boneyard-notifier", function () {
      leader = true;
      return new Promise(function () {});
    });
  }
  var channel = "BroadcastChannel" in window ? new BroadcastChannel("boneyard-notices") : null;
  var shown = {};

  function show(n) {
    if (!leader || shown[n.id]) {
      return;
    }
    shown[n.id] = true;
    if (!enabled()) {
      return;
    }
    try {
      var note = new Notification(n.title, { body: n.body, tag: n.id });
      note.onclick = function () {
        window.focus();
        if (n.url) {
          window.location.href = n.url;
        }
      };
    } catch (e) {
      // The browser refused (no notification service): nothing to show.
    }
  }

  if (channel) {
    channel.onmessage = function (e) {
      (e.data || []).forEach(show);
    };
  }

  // What the page already knew when it loaded is not news.
  var run = null;
  var seen = 0;
  var list = null;

  function read(ul) {
    return Array.from(ul.querySelectorAll("li[data-id]")).map(function (li) {
      return {
        id: li.getAttribute("data-id"),
        serial: Number(li.getAttribute("data-serial")),
        title: li.getAttribute("data-title"),
        body: li.getAttribute("data-body"),
        url: li.getAttribute("data-url") || "",
      };
    });
  }

  // take handles a notice list: its notices newer than those seen (all of
  // them when a restarted boneyard numbers them afresh).
  function take(ul, baseline) {
    var items = read(ul);
    var ulRun = ul.getAttribute("data-run");
    var fresh = items.filter(function (n) {
      return ulRun !== run || n.serial > seen;
    });
    if (ulRun !== run) {
      seen = 0;
      run = ulRun;
    }
    fresh.forEach(function (n) {
      seen = Math.max(seen, n.serial);
    });
    if (baseline || fresh.length === 0) {
      return;
    }
    fresh.forEach(show);
    if (channel) {
      channel.postMessage(fresh);
    }
  }

  function current() {
    var ul = document.getElementById("notices");
    if (ul && ul !== list) {
      var first = list === null;
      list = ul;
      take(ul, first);
    }
  }

  current();
  new MutationObserver(current).observe(document.body, { childList: true });

  // A hidden tab closes its event stream (app.js): the tab that shows the
  // notifications then asks for the notices now and then.
  var timer = null;

  function poll() {
    var url = button.getAttribute("data-notices-url");
    if (!leader || !enabled() || !url) {
      return;
    }
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (res) {
        return res.ok ? res.text() : null;
      })
      .then(function (html) {
        if (!html) {
          return;
        }
        var ul = new DOMParser().parseFromString(html, "text/html").getElementById("notices");
        if (ul) {
          take(ul, false);
        }
      })
      .catch(function () {
        // Unreachable for now; the next poll or the stream catches up.
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      if (timer === null) {
        timer = setInterval(poll, pollMs);
      }
      return;
    }
    clearInterval(timer);
    timer = null;
  });
})();
