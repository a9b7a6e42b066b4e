/*
 * Streamlit sends what a widget or a component set from a zero-delay timer, and after a
 * click or a pen-up the browser runs no timer, nor any other task the page queues, until it
 * has drawn its next frame: up to a frame's time later. `window.digitAtOnce(act)` runs the
 * zero-delay timers that `act` sets as soon as it is over, in the same task; the canvas
 * script hands a stroke over through it. A click on the feedback row (✓ Correct, a digit
 * picked) gets the same: the timers its own handlers set run once they are over. Those
 * handlers are React's, on the page's root, so the timers are caught from the click's start
 * (a listener on the window, first) to its end there (a listener on the root, after
 * React's); should the click never get there, they run at the latest when a timer set at its
 * start comes, as they would have.
 *
 * Read once by tabs/draw/page_head.py, which leaves this comment out of the page and fills
 * in each $placeholder (string.Template: a `$` of the file's own is written `$$`).
 */
(() => {
  if (window.digitAtOnce) return;
  const timer = window.setTimeout;
  let caught = null;  // the zero-delay timers set since catching began; null when not catching
  const catchTimers = () => {
    caught = [];
    window.setTimeout = (callback, delay, ...rest) =>
      delay ? timer(callback, delay, ...rest) : (caught.push(() => callback(...rest)), 0);
  };
  const runCaught = () => {
    if (caught === null) return;
    window.setTimeout = timer;
    const now = caught;
    caught = null;
    for (const callback of now) callback();
  };
  window.digitAtOnce = (act) => {
    catchTimers();
    try {
      act();
    } finally {
      runCaught();
    }
  };
  const feedbackRow = ".st-key-$confirm_key, .st-key-$pick_key";
  window.addEventListener("click", (event) => {
    if (!event.target.closest?.(feedbackRow) || caught !== null) return;
    catchTimers();
    timer(runCaught, 0);
  }, true);
  document.getElementById("root")?.addEventListener("click", runCaught);
})();
