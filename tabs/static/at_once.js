/*
 * Streamlit sends what a widget or a component set from a zero-delay timer, and after a
 * click, a key or a pen-up the browser runs no timer, nor any other task the page queues,
 * until it has drawn its next frame: up to a frame's time later. `window.digitAtOnce(act)`
 * runs the zero-delay timers that `act` sets as soon as it is over, in the same task; the
 * canvas script hands a stroke over through it. A click or a key on the feedback row
 * (✓ Correct, a digit) gets the same: the timers its own handlers set run once they are over.
 * Those handlers are React's, on the page's root, so the timers are caught from the event's
 * start (a listener on the window, first) to its end there (a listener on the root, after
 * React's), or at the latest until a timer set at its start comes. Each timer caught is a real
 * one, only run early and then cleared: one that is cleared first never runs.
 *
 * Read once by tabs/draw/page_head.py, which leaves this comment out of the page and fills
 * in each $placeholder (string.Template: a `$` of the file's own is written `$$`).
 */
(() => {
  if (window.digitAtOnce) return;
  let caught = null;  // timer id -> callback, for the zero-delay timers set while catching
  let restore = null;  // puts back the timer functions that catching replaced
  const catchTimers = () => {
    const [setTimer, clearTimer] = [window.setTimeout, window.clearTimeout];
    caught = new Map();
    window.setTimeout = (callback, delay, ...rest) => {
      const id = setTimer(callback, delay, ...rest);
      if (!delay && typeof callback === "function") caught.set(id, () => callback(...rest));
      return id;
    };
    window.clearTimeout = (id) => {
      caught?.delete(id);
      clearTimer(id);
    };
    restore = () => {
      window.setTimeout = setTimer;
      window.clearTimeout = clearTimer;
    };
  };
  const runCaught = () => {
    if (caught === null) return;
    const due = caught;
    caught = null;
    restore();
    for (const [id, callback] of due) {
      window.clearTimeout(id);
      try {
        callback();
      } catch (error) {
        reportError(error);  // as a timer's would be: the others still run
      }
    }
  };
  window.digitAtOnce = (act) => {
    if (caught !== null) return act();  // inside a catch already, which runs them at its end
    catchTimers();
    try {
      act();
    } finally {
      runCaught();
    }
  };
  const feedbackRow = ".st-key-$confirm_key, .st-key-$pick_key";
  let event = null;  // the event on the feedback row whose timers are being caught
  for (const type of ["click", "keyup"]) {
    window.addEventListener(type, (started) => {
      if (caught !== null || !started.target.closest?.(feedbackRow)) return;
      event = started;
      // Set before catching, so a real timer: the catch ends even if the event never gets to
      // the root.
      window.setTimeout(() => {
        if (event !== started) return;
        event = null;
        runCaught();
      });
      catchTimers();
    }, true);
    document.getElementById("root")?.addEventListener(type, (ended) => {
      if (ended !== event) return;
      event = null;
      runCaught();
    });
  }
})();
