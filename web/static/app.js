// boneyard's only script. htmx does the work; this file shows network
// failures and server errors in #flash, which htmx leaves alone, marks action
// forms busy while their request runs, and keeps hidden tabs off the
// connection pool.
(function () {
  "use strict";

  function flash(message) {
    var box = document.getElementById("flash");
    if (!box) {
      return;
    }
    var p = document.createElement("p");
    p.className = "flash flash-error";
    p.setAttribute("role", "alert");
    p.textContent = message;
    box.replaceChildren(p);
  }

  document.addEventListener("htmx:sendError", function () {
    flash("boneyard did not answer. Is it still running? Reload the page to retry.");
  });

  document.addEventListener("htmx:responseError", function (evt) {
    var status = evt.detail && evt.detail.xhr ? evt.detail.xhr.status : 0;
    if (status >= 500) {
      flash("The action failed on the server (HTTP " + status + "). See the server log.");
    }
  });

  // An action can take seconds (a hub that ignores SIGTERM): its form says
  // it is busy and cannot be sent twice until the answer arrives. A live
  // update, or the answer itself, may replace the form meanwhile, so the
  // state follows the action's path, not the element, and ends with the
  // request itself: htmx reports the end of a request whose form is gone
  // from the page to no listener of the document.
  var pending = {};
  var actionForms = "form[hx-post]";

  function setBusy(form, busy) {
    form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) {
      b.disabled = busy;
    });
    if (busy) {
      form.setAttribute("aria-busy", "true");
    } else {
      form.removeAttribute("aria-busy");
    }
  }

  function formsIn(root) {
    var forms = Array.from(root.querySelectorAll(actionForms));
    if (root.matches && root.matches(actionForms)) {
      forms.push(root);
    }
    return forms;
  }

  function actionPath(evt) {
    var elt = evt.detail && evt.detail.elt;
    return elt instanceof HTMLFormElement && elt.matches(actionForms) ? elt.getAttribute("hx-post") : null;
  }

  function markForms(root) {
    formsIn(root).forEach(function (f) {
      setBusy(f, pending[f.getAttribute("hx-post")] > 0);
    });
  }

  document.addEventListener("htmx:beforeRequest", function (evt) {
    var path = actionPath(evt);
    var xhr = evt.detail.xhr;
    if (path === null || !xhr) {
      return;
    }
    pending[path] = (pending[path] || 0) + 1;
    markForms(document);
    // loadend follows the answer's swap, an error, an abort and a timeout.
    xhr.addEventListener(
      "loadend",
      function () {
        pending[path] -= 1;
        if (pending[path] <= 0) {
          delete pending[path];
        }
        markForms(document);
      },
      { once: true },
    );
  });

  document.addEventListener("htmx:load", function (evt) {
    if (evt.detail && evt.detail.elt instanceof Element) {
      markForms(evt.detail.elt);
    }
  });

  // Live updates. A browser opens about six connections per host over plain
  // HTTP, and every page's event stream holds one for as long as it is
  // open, so a seventh tab would never load. A hidden tab therefore closes
  // its stream, keeps its title's problem count fresh with a short request
  // now and then, and reopens the stream when shown again: the server then
  // sends everything that changed since the page was rendered.
  var titlePollMs = 10000;
  var sources = [];

  function hidden() {
    return document.visibilityState === "hidden";
  }

  // PausableSource is what the sse extension gets for an EventSource: the
  // same interface, but it holds no connection while the page is hidden.
  function PausableSource(url) {
    this.url = url;
    // The position of the page's live log, from the last log update's id:
    // a reopened stream goes on from there. null until one arrives.
    this.cursor = null;
    this.listeners = [];
    this.onopen = null;
    this.onerror = null;
    this.es = null;
    this.closed = false;
    sources.push(this);
    if (!hidden()) {
      this.open();
    }
  }

  Object.defineProperty(PausableSource.prototype, "readyState", {
    get: function () {
      if (this.closed) {
        return EventSource.CLOSED;
      }
      return this.es ? this.es.readyState : EventSource.CONNECTING;
    },
  });

  PausableSource.prototype.open = function () {
    if (this.es || this.closed) {
      return;
    }
    var self = this;
    var es = new EventSource(withCursor(this.url, this.cursor), { withCredentials: true });
    es.addEventListener("update", function (e) {
      if (e.lastEventId) {
        self.cursor = e.lastEventId;
      } else if (self.cursor) {
        // The server reset the id (a position too long to send back).
        self.cursor = "";
      }
    });
    es.onopen = function (e) {
      if (self.onopen) {
        self.onopen(e);
      }
    };
    es.onerror = function (e) {
      // The browser gave up; the extension opens a new source if it retries.
      if (es.readyState === EventSource.CLOSED) {
        self.close();
      }
      if (self.onerror) {
        self.onerror(e);
      }
    };
    // Over the server's stream cap the page is told so, and waits.
    es.addEventListener("capped", function (e) {
      flash(e.data);
    });
    this.listeners.forEach(function (l) {
      es.addEventListener(l.type, l.fn);
    });
    this.es = es;
  };

  PausableSource.prototype.pause = function () {
    if (this.es) {
      this.es.close();
      this.es = null;
    }
  };

  PausableSource.prototype.close = function () {
    this.pause();
    this.closed = true;
    sources = sources.filter(function (s) {
      return s !== this;
    }, this);
  };

  PausableSource.prototype.addEventListener = function (type, fn) {
    this.listeners.push({ type: type, fn: fn });
    if (this.es) {
      this.es.addEventListener(type, fn);
    }
  };

  PausableSource.prototype.removeEventListener = function (type, fn) {
    this.listeners = this.listeners.filter(function (l) {
      return l.type !== type || l.fn !== fn;
    });
    if (this.es) {
      this.es.removeEventListener(type, fn);
    }
  };

  // withCursor is url with its cursor parameter set to cursor (unless null).
  function withCursor(url, cursor) {
    if (cursor === null) {
      return url;
    }
    var u = new URL(url, window.location.href);
    u.searchParams.set("cursor", cursor);
    return u.pathname + u.search;
  }

  if (window.htmx) {
    htmx.createEventSource = function (url) {
      return new PausableSource(url);
    };
  }

  var titleTimer = null;

  function pollTitle() {
    var url = document.body && document.body.getAttribute("data-title-url");
    if (!url) {
      return;
    }
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (res) {
        return res.ok ? res.text() : null;
      })
      .then(function (text) {
        if (text && hidden()) {
          document.title = text;
        }
      })
      .catch(function () {
        // The stream reports an unreachable server once the tab is shown.
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (hidden()) {
      sources.forEach(function (s) {
        s.pause();
      });
      if (titleTimer === null) {
        titleTimer = setInterval(pollTitle, titlePollMs);
      }
      return;
    }
    clearInterval(titleTimer);
    titleTimer = null;
    sources.forEach(function (s) {
      s.open();
    });
  });
})();

// Keyboard shortcuts, listed in the dialog#shortcuts that "?" opens:
// "/" focuses the filter, j and k move the focus between the workspace
// rows (onto each row's link), Enter opens the selected row's page. None
// fires while typing in a field or with Ctrl, Alt or Meta held. A live
// update that replaces the focused row gives the focus back to its new copy.
(function () {
  "use strict";

  var rowSelector = "table#workspaces tbody tr[id^='ws-']";
  var selectedId = null; // id of the selected row
  var rowFocused = false; // the focus is on the selected row
  var opener = null; // what had the focus before the dialog opened

  function rows() {
    return Array.from(document.querySelectorAll(rowSelector));
  }

  function rowLink(tr) {
    return tr.querySelector("td.name a");
  }

  function isField(el) {
    return !!el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  function mark() {
    rows().forEach(function (tr) {
      tr.classList.toggle("kb-selected", tr.id === selectedId);
    });
  }

  function select(tr) {
    selectedId = tr.id;
    mark();
    var link = rowLink(tr);
    if (link) {
      link.focus();
    }
  }

  // current is the index of the row holding the focus, else of the
  // selected row, else -1.
  function current(list) {
    var active = document.activeElement;
    var at = list.findIndex(function (tr) {
      return tr.contains(active);
    });
    if (at < 0) {
      at = list.findIndex(function (tr) {
        return tr.id === selectedId;
      });
    }
    return at;
  }

  function move(step) {
    var list = rows();
    if (list.length === 0) {
      return;
    }
    var at = current(list);
    var next = at < 0 ? (step > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, at + step));
    select(list[next]);
  }

  function dialog() {
    return document.getElementById("shortcuts");
  }

  function openShortcuts() {
    var d = dialog();
    if (!d || d.open) {
      return;
    }
    opener = document.activeElement;
    d.showModal();
  }

  document.addEventListener("keydown", function (evt) {
    var d = dialog();
    if (evt.defaultPrevented || evt.isComposing || evt.ctrlKey || evt.altKey || evt.metaKey || (d && d.open) || isField(evt.target)) {
      return;
    }
    switch (evt.key) {
      case "/":
        var filter = document.getElementById("filter-q");
        if (filter) {
          evt.preventDefault();
          filter.focus();
          filter.select();
        }
        break;
      case "j":
        evt.preventDefault();
        move(1);
        break;
      case "k":
        evt.preventDefault();
        move(-1);
        break;
      case "?":
        evt.preventDefault();
        openShortcuts();
        break;
      case "Enter":
        // On the row's link Enter follows it anyway; this is for a
        // selection whose focus was lost (a live update replaced the row).
        var tr = selectedId && document.getElementById(selectedId);
        if (tr && (evt.target === document.body || evt.target === document.documentElement) && rowLink(tr)) {
          evt.preventDefault();
          rowLink(tr).click();
        }
        break;
    }
  });

  document.addEventListener("focusin", function (evt) {
    var tr = evt.target instanceof Element ? evt.target.closest(rowSelector) : null;
    rowFocused = !!tr;
    if (tr && tr.id !== selectedId) {
      selectedId = tr.id;
      mark();
    }
  });

  // A row link that loses the focus while still on the page was left on
  // purpose (a click elsewhere); one that was swapped out was not.
  document.addEventListener("focusout", function (evt) {
    var el = evt.target;
    if (el instanceof Element && el.closest(rowSelector)) {
      setTimeout(function () {
        if (el.isConnected && !el.closest(rowSelector).contains(document.activeElement)) {
          rowFocused = false;
        }
      }, 0);
    }
  });

  function restore() {
    if (!selectedId) {
      return;
    }
    mark();
    var tr = document.getElementById(selectedId);
    var active = document.activeElement;
    if (tr && rowFocused && (!active || active === document.body)) {
      var link = rowLink(tr);
      if (link) {
        link.focus({ preventScroll: true });
      }
    }
  }

  document.addEventListener("htmx:afterSettle", restore);
  document.addEventListener("htmx:load", restore);

  document.addEventListener("DOMContentLoaded", function () {
    var d = dialog();
    var open = document.getElementById("shortcuts-open");
    var close = document.getElementById("shortcuts-close");
    if (!d || !open || !close) {
      return;
    }
    open.hidden = false;
    open.addEventListener("click", openShortcuts);
    close.addEventListener("click", function () {
      d.close();
    });
    // Escape closes the modal dialog natively; the focus goes back to
    // where it was.
    d.addEventListener("close", function () {
      if (opener && opener.isConnected && typeof opener.focus === "function") {
        opener.focus();
      }
      opener = null;
    });
  });
})();

// Hub log console: follow mode (the list sticks to its newest line, and
// scrolling up pauses it with "N new lines: jump to latest"), the view kept
// in place when older lines are loaded above it, and a bound on the lines a
// live page keeps. Lines arrive as out-of-band swaps into #log-lines.
(function () {
  "use strict";

  var maxLines = 5000;
  var keepLines = 4000;

  function setup() {
    var view = document.getElementById("log-view");
    var list = document.getElementById("log-lines");
    if (!view || !list) {
      return;
    }
    var status = document.getElementById("log-follow");
    var jump = document.getElementById("log-jump");
    var live = view.getAttribute("data-live") === "true" && status && jump;
    var following = true;
    var unseen = 0;
    var height = view.scrollHeight;
    var first = list.firstElementChild;

    function atBottom() {
      return view.scrollHeight - view.scrollTop - view.clientHeight < 8;
    }

    function toBottom() {
      view.scrollTop = view.scrollHeight;
    }

    function show() {
      if (!live) {
        return;
      }
      status.hidden = false;
      status.textContent = following ? "Following new lines." : "Paused: scroll to the end to follow again.";
      jump.hidden = following || unseen === 0;
      jump.textContent = unseen + (unseen === 1 ? " new line" : " new lines") + ": jump to latest";
    }

    // A live page let go of its oldest lines: the link to older ones no
    // longer follows on from the first line shown.
    function trim() {
      if (list.children.length <= maxLines) {
        return;
      }
      var before = view.scrollHeight;
      while (list.children.length > keepLines) {
        list.removeChild(list.firstElementChild);
      }
      view.scrollTop -= before - view.scrollHeight;
      var older = document.getElementById("log-older");
      if (older) {
        var note = document.createElement("span");
        note.className = "muted";
        note.textContent = "Older lines were let go to keep this page light: reload to see them.";
        older.replaceChildren(note);
      }
    }

    toBottom();
    view.addEventListener("scroll", function () {
      following = atBottom();
      if (following) {
        unseen = 0;
      }
      height = view.scrollHeight;
      show();
    });
    if (jump) {
      jump.addEventListener("click", function () {
        unseen = 0;
        following = true;
        toBottom();
        show();
      });
    }
    new MutationObserver(function (records) {
      var added = 0;
      records.forEach(function (r) {
        r.addedNodes.forEach(function (n) {
          if (n.nodeType === Node.ELEMENT_NODE) {
            added += 1;
          }
        });
      });
      var now = list.firstElementChild;
      var prepended = first !== null && now !== first && list.contains(first);
      if (prepended) {
        // Older lines went in above: what was in view stays in view.
        view.scrollTop += view.scrollHeight - height;
      } else if (added > 0 && following) {
        toBottom();
      } else if (added > 0) {
        unseen += added;
      }
      trim();
      first = list.firstElementChild;
      height = view.scrollHeight;
      show();
    }).observe(list, { childList: true });
    show();
  }

  // The filters leave out what is not set, so the URL to bookmark says only
  // what is: /workspaces/ID/log?level=ERROR&q=panic.
  document.addEventListener("formdata", function (evt) {
    if (!(evt.target instanceof HTMLFormElement) || evt.target.id !== "log-filters") {
      return;
    }
    Array.from(evt.formData.entries()).forEach(function (kv) {
      if (kv[1] === "") {
        evt.formData.delete(kv[0]);
      }
    });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
