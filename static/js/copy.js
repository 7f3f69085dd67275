// Copy buttons: <button data-copy="ID" hidden> copies the text of the element with that id.
// The buttons stay hidden without JavaScript, where selecting the text works as usual.
(function () {
  "use strict";

  function announce(message) {
    var region = document.getElementById("status");
    if (region) {
      region.textContent = message;
    }
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return Promise.reject(new Error("The clipboard is not available on this page."));
  }

  function selectContents(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.hidden = false;
    });
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) {
      return;
    }
    var source = document.getElementById(button.dataset.copy);
    if (!source) {
      return;
    }
    copyText(source.textContent.trim()).then(
      function () {
        announce("Copied to the clipboard.");
      },
      function () {
        // Without clipboard access, select the text so that Ctrl+C copies it.
        selectContents(source);
        announce("Selected; press Ctrl+C (or Cmd+C) to copy.");
      }
    );
  });
})();
