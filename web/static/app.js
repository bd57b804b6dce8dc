// boneyard's only script. htmx does the work; this file shows network
// failures and server errors in #flash, which htmx leaves alone.
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
})();
