// Forms marked data-csrf-from-cookie="COOKIE" carry no CSRF token in the page, because the
// page must be the same bytes on every response (the 404 page). Before such a form is sent,
// the token is copied from the CSRF cookie, which Django accepts in place of a masked token.
// The forms stay hidden without JavaScript or without the cookie, where they could not be sent.
(function () {
  "use strict";

  function readCookie(name) {
    var prefix = name + "=";
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].indexOf(prefix) === 0) {
        return decodeURIComponent(parts[i].slice(prefix.length));
      }
    }
    return "";
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-csrf-from-cookie]").forEach(function (form) {
      if (readCookie(form.dataset.csrfFromCookie)) {
        form.hidden = false;
      }
    });
  });

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-csrf-from-cookie]");
    if (!form) {
      return;
    }
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = "csrfmiddlewaretoken";
      form.appendChild(input);
    }
    input.value = readCookie(form.dataset.csrfFromCookie);
  });
})();
