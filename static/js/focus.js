// Focus after htmx swaps: replacing a section removes the button that had focus, and the
// browser then moves focus to <body>. Within the swapped-in content, the element marked
// data-focus-after-swap takes focus instead, but only when focus was lost, so a swap never
// pulls focus away from where the person moved it. It runs right after the swap rather than
// after the settle delay, so no key press lands on <body> in between.
(function () {
  "use strict";

  function focusLost() {
    var active = document.activeElement;
    return !active || active === document.body || !active.isConnected;
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var root = event.target;
    if (!(root instanceof Element) || !root.isConnected || !focusLost()) {
      return;
    }
    var target = root.matches("[data-focus-after-swap]")
      ? root
      : root.querySelector("[data-focus-after-swap]");
    if (target) {
      target.focus();
    }
  });
})();
