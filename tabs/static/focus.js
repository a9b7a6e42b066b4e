/*
 * A control that loses the keyboard's focus because a run disabled it (✓ Correct once
 * saved, Undo with nothing left to undo) would leave the focus on the page itself, and the
 * next Tab at its top. Once the page settles, the focus goes back to the control if it is
 * usable again, else to the next usable one after it (the digits after ✓ Correct, Redo
 * after Undo, the field for the number meant after a number's ✓ Correct, not the help icon
 * in its label), without scrolling; in a group of choices, to the one chosen (the digit just
 * saved), as Tab into the group would. A field that the page itself lets go of (Streamlit's
 * form does once Enter saves a number, and draws the field anew) gets the focus back, as a
 * save by its button keeps it there; not on a touch screen, where the focus would bring the
 * keyboard up again, and where Enter in such a field lets it go even when it is not drawn
 * anew, for the keyboard to go down. In a box whose content a press replaces (the History
 * tab's deletion: its button, its question, what it came to; the photo's upload: its button,
 * the file's chip), a control pressed from the keyboard that the run took away, with nothing
 * of its kind in its place once the run is over, hands the focus to the box itself, focusable
 * until it loses the focus, so that Tab goes on into what replaced the control. Until 3 s
 * after the run is over, however long it takes (a photo read), the focus is put back each
 * time the run's redrawing drops it again. Tab or Escape, a click or a key press since, or
 * focus the person moved on, is left alone.
 *
 * Read once by tabs/draw/page_head.py, which leaves this comment out of the page and fills
 * in each $placeholder (string.Template: a `$` of the file's own is written `$$`).
 */
(() => {
  if (window.digitFocusKept) return;
  window.digitFocusKept = true;
  const focusable =
    ':is(button, input, textarea, select, a[href], [tabindex]):not([tabindex="-1"])';
  const helpIcon = '[data-testid="stTooltipIcon"]';  // a label's "?": an aside, not a control
  const usable = (element) =>
    element.isConnected && !element.disabled && element.getClientRects().length > 0;
  const after = (control) => {
    for (let root = control.getRootNode(), from = control; ;
         from = root.host, root = root.host.getRootNode()) {
      const next = [...root.querySelectorAll(focusable)].find((element) =>
        from.compareDocumentPosition(element) & Node.DOCUMENT_POSITION_FOLLOWING
        && !from.contains(element) && usable(element) && !element.closest(helpIcon));
      if (next || !root.host) return next;
    }
  };
  const keyOf = (element) => [...(element?.classList ?? [])]
    .find((name) => name.startsWith("st-key-"));
  const runOver = () => document.querySelector('[data-testid="stApp"]')
    ?.getAttribute("data-test-script-state") === "notRunning";
  // Streamlit may draw a widget anew after a run: the control of the same kind, name and
  // text under the same key stands in for it; where none does once the run is over, the box
  // whose content the press replaced, made focusable until it loses the focus.
  const standIn = (control) => {
    const key = keyOf(control.closest('[class^="st-key-"], [class*=" st-key-"]'));
    const replacedIn = keyOf(control.closest("$replaced_in"));
    const kind = (element) =>
      [element.tagName, element.getAttribute("aria-label"), element.textContent].join("|");
    const wanted = kind(control);
    return () => {
      const same = key && [...document.querySelectorAll(`.$${CSS.escape(key)} $${focusable}`)]
        .find((element) => kind(element) === wanted);
      if (same || !replacedIn || !runOver()) return same;
      const box = document.querySelector(`.$${CSS.escape(replacedIn)}`);
      if (box && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "-1");
        box.addEventListener("blur", () => box.removeAttribute("tabindex"), {once: true});
      }
      return box;
    };
  };
  const chosenIn = (control) => {
    const chosen = control?.closest('[role="radiogroup"]')
      ?.querySelector('[role="radio"][aria-checked="true"]');
    return chosen && usable(chosen) ? chosen : control;
  };
  const touch = matchMedia("(pointer: coarse)");
  // On a touch screen, Enter in a form's field (the number meant) saves it and lets the field
  // go: focused, it would keep the keyboard up over what the save shows.
  document.addEventListener("keydown", (event) => {
    const field = event.composedPath()[0];
    if (event.key !== "Enter" || !touch.matches || !(field instanceof HTMLInputElement)
        || !field.closest('[data-testid="stForm"]')) return;
    setTimeout(() => field.blur());  // once the form has taken the Enter
  }, true);
  let pressed = false;  // the person's last act was a key press other than Tab or Escape
  let acts = 0;  // the person's key and pointer presses so far
  document.addEventListener("keydown", (event) => {
    pressed = !["Tab", "Escape"].includes(event.key);
    acts += 1;
  }, true);
  document.addEventListener("pointerdown", () => {
    pressed = false;
    acts += 1;
  }, true);
  document.addEventListener("focusout", (event) => {
    const control = event.composedPath()[0];
    if (event.relatedTarget || !(control instanceof Element)) return;
    const letGo = pressed && !touch.matches;  // by the page, after the person's key press
    const drawnAnew = letGo ? standIn(control) : () => null;
    const actsThen = acts;
    let until = performance.now() + $within_ms;
    const restore = () => {
      if (!runOver()) until = performance.now() + $within_ms;  // counted from the run's end
      if (acts !== actsThen || performance.now() > until || !document.hasFocus()) return;
      if (document.activeElement === document.body) {
        const again = control.isConnected ? control : drawnAnew();
        const target = !again ? null : usable(again) ? again : chosenIn(after(again));
        target?.focus({preventScroll: true});
      }
      setTimeout(restore, $every_ms);
    };
    // Chrome sends focusout from inside the removal of a focused control, halfway through a
    // run's redrawing (a line new above a control moves it, and Streamlit draws it anew): a
    // layout read now would find the page short of what is still to come back, and scroll it
    // up to fit. Whether the control still shows is asked once that DOM update is over.
    queueMicrotask(() => {
      // Removed, and not by the page's own letting go: nothing stands in for it to refocus.
      if (!letGo && (usable(control) || !control.isConnected)) return;
      setTimeout(restore, $settle_ms);
    });
  }, true);
})();
