/*
 * The canvas waits 200 ms after the pen is lifted before it sends the drawing, to batch quick
 * edits; that alone would double the time to the answer. When a stroke ends on the drawing
 * surface, this asks it to send at once through its own "Update the app" toolbar button (after
 * the canvas has finished the stroke).
 * The canvas's toolbar shows only while a mouse hovers over it, small, and floats over what
 * lies above the canvas: a finger never sees it. This gives every canvas a row of controls
 * under it instead: Undo, Redo and Clear, each named in words and large enough for a finger,
 * always shown. It drops the toolbar's other buttons (sending, which the pen-up does, and
 * editing strokes, which a digit does not need). A stroke takes the keyboard's focus to the
 * drawing surface (out of the Tab order, which it has no use in), so that Tab next reaches
 * Undo, not the page's top, where the focus would go from the scrolling page around the canvas.
 * The canvas keeps its styles in a shadow root, so the rules are adopted there, as the root is
 * made: before anything shows in it. The canvas shows its layers before its own stylesheet has
 * loaded, and until then its background layer would push the drawing surface down by the
 * canvas's height, to jump back up a moment later; the rules also lay that layer out. A
 * control's focus ring is a shadow, which a high-contrast mode drops: an outline, transparent
 * but there, shows in its place. A touch screen keeps a control tapped "hovered" until
 * something else is tapped: there a control is shaded only while pressed. A greyed control
 * lets the pointer through to what lies under it: a button that is disabled takes no mouse
 * event, and a stroke run off the canvas and ended over greyed Undo or Redo would never end,
 * its drawing never sent.
 * On a phone the wide canvas's box scrolls sideways, but a finger on the canvas draws: a
 * shaded strip along the bottom of the box, which is no canvas, takes a swipe and scrolls it.
 * Clear scrolls it back to its left edge, where the next number starts. Swiped on to the
 * right from that edge, the browser would take the swipe for "back" and leave the page, and
 * the number with it: such a swipe (of one finger: two may pinch to zoom) is held there.
 * If the component's markup ever changes, the page falls back to the canvas's own delay and
 * toolbar.
 * From the end of a stroke until the server has run the page for the drawing it sends, the
 * answer beside it belongs to the drawing before: it is blanked, its lines ("Saved as a 7")
 * hidden, and the rest of the mode but the canvas dimmed and inert, so that no digit is given
 * to a drawing other than the one on show. The end of the next run ends the wait; so does
 * what the run changed in the mode, where a busy page took the whole run in at once and
 * never showed it running. A drawing sent as the connection failed gets no run: once the
 * page is connected again (to another replica, say), it is sent again.
 * A visit's first run of a mode's drawing code is its slowest, on the server and in the
 * browser: once the page is idle, a canvas nobody has drawn on yet sends its blank drawing,
 * once, so that the first stroke's run is not the first.
 *
 * Read once by tabs/draw/page_head.py, which leaves this comment out of the page and fills
 * in each $placeholder (string.Template: a `$` of the file's own is written `$$`).
 */
(() => {
  if (window.digitCanvasControls) return;
  window.digitCanvasControls = true;
  const canvases = ".st-key-$canvas_key, .st-key-$number_canvas_key";
  const controls = new CSSStyleSheet();
  controls.replaceSync(`
    .dc-container { position: relative; }
    .dc-background-canvas { position: absolute; top: 0; left: 0; }
    .dc-root > .dc-toolbar {
      position: static; opacity: 1; padding: 0.5rem 0 0; transition: none;
    }
    .dc-toolbar-card { background: none; box-shadow: none; padding: 0; gap: 0.5rem; }
    .dc-icon-button {
      min-width: 2.75rem; min-height: 2.75rem; gap: 0.375rem; padding: 0 0.875rem;
      border: 1px solid var(--st-border-color, #d5dae5); font: inherit; font-size: 0.9375rem;
      color: var(--st-text-color, #31333f); touch-action: manipulation;
    }
    .dc-icon-button svg { width: 1.125rem; height: 1.125rem; }
    .dc-icon-button:focus-visible {
      outline: 2px solid transparent;
      box-shadow: 0 0 0 0.2rem
        color-mix(in srgb, var(--st-primary-color, $focus_colour) 50%, transparent);
    }
    .dc-icon-button::after { content: attr(aria-label); }
    .dc-icon-button:disabled { pointer-events: none; }
    @media (hover: none) {
      .dc-icon-button:hover:not(:disabled, :active) { background: none; }
    }
    .dc-toolbar-separator, .dc-toolbar-contextual,
    button[aria-label="Update the app with this drawing"], button[aria-label="Edit"] {
      display: none !important;
    }
  `);
  const swipeStrip = new CSSStyleSheet();
  swipeStrip.replaceSync(`
    @media (max-width: ${widest_narrow_page}px) {
      .dc-scroll {
        padding-bottom: 2.25rem;
        background: linear-gradient(to top,
          color-mix(in srgb, var(--st-text-color, #31333f) 10%, transparent) 2.25rem,
          transparent 2.25rem);
      }
    }
  `);
  const name = (root) => {
    const clear = root.querySelector('button[aria-label="Reset canvas & history"]');
    clear?.setAttribute("aria-label", "$clear_label");
    if (clear) clear.title = "Clear the drawing";
    const surface = root.querySelector("$surface");
    if (surface && !surface.hasAttribute("aria-label")) {
      const wide = root.host.closest(".st-key-$number_canvas_key");
      surface.setAttribute("role", "img");
      surface.setAttribute("aria-label", wide ? "$number_canvas_name" : "$canvas_name");
      surface.tabIndex = -1;  // a stroke puts the focus here, not on the page's top
    }
  };
  const equip = (root) => {
    if (root.adoptedStyleSheets.includes(controls)) return;
    const wide = root.host.closest(".st-key-$number_canvas_key");
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, controls, ...(wide ? [swipeStrip] : [])];
    name(root);
    new MutationObserver(() => {
      name(root);
      idle(warmUp);
    }).observe(root, {childList: true, subtree: true});
    if (!wide) return;
    root.addEventListener("click", (event) => {
      if (event.target.closest?.('button[aria-label="$clear_label"]')) {
        root.querySelector(".dc-scroll")?.scrollTo({left: 0});
      }
    });
    let start = null;  // the finger of a one-finger swipe; none while two pinch or rest
    root.addEventListener("touchstart", (event) => {
      start = event.touches.length === 1 ? event.touches[0] : null;
    }, {passive: true});
    root.addEventListener("touchmove", (event) => {
      if (!start || event.touches.length !== 1) return;
      const box = root.querySelector(".dc-scroll"), touch = event.touches[0];
      const [right, down] = [touch.clientX - start.clientX, touch.clientY - start.clientY];
      const onward = right > Math.abs(down) && box?.scrollLeft <= 0;
      if (onward && event.cancelable) event.preventDefault();
    }, {passive: false});
  };
  for (const area of document.querySelectorAll(canvases)) {
    for (const host of area.querySelectorAll("*")) if (host.shadowRoot) equip(host.shadowRoot);
  }
  const attachShadow = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (...options) {
    const root = attachShadow.apply(this, options);
    if (this.closest(canvases)) equip(root);
    return root;
  };
  // Streamlit sends the drawing from a zero-delay timer: run at once (at_once.js).
  const sendButton = (host) =>
    host.shadowRoot?.querySelector('button[aria-label="Update the app with this drawing"]');
  const send = (host) => window.digitAtOnce(() => sendButton(host)?.click());
  const pending = new Map();  // mode area -> the canvas host whose drawing waits for its run
  const stale = new CSSStyleSheet();
  // Hidden and dimmed only once the answer is late: an answer on time replaces the old one
  // without a blink. Clicks are refused at once (inert).
  stale.replaceSync(`
    [data-answer-pending] :is([data-testid="stMetricValue"], [data-testid="stMetricDelta"],
      [data-testid="stCaptionContainer"], [data-testid="stAlert"]) {
      visibility: hidden; transition: visibility 0s $stale_after_ms;
    }
    [data-answer-pending] [inert] { opacity: 0.4; transition: opacity 0s $stale_after_ms; }
  `);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, stale];
  const answerParts = (area) => [...area.querySelectorAll('[data-testid="stElementContainer"]')]
    .filter((part) => !part.querySelector(canvases) && !part.matches(canvases));
  // A run's own changes to a waiting mode area, seen once no run shows as going on: a busy
  // page may apply a whole run in one go, and then its "running" mark never shows.
  const redrawn = new MutationObserver(() => {
    if (state("script") !== "running" && connected) answered();
  });
  const markPending = (host) => {
    const area = host.closest("$mode_areas");
    if (!area) return;
    pending.set(area, host);
    area.setAttribute("data-answer-pending", "");
    for (const part of answerParts(area)) part.inert = true;
    redrawn.observe(area, {childList: true, characterData: true, subtree: true});
  };
  const answered = () => {
    redrawn.disconnect();
    for (const area of pending.keys()) {
      area.removeAttribute("data-answer-pending");
      for (const part of area.querySelectorAll("[inert]")) part.inert = false;
    }
    pending.clear();
  };
  // Once a run has ended and the page is idle, each canvas not yet drawn on sends its blank
  // drawing once: its run changes nothing on show.
  const canvasKey = (node) =>
    node.closest(".st-key-$number_canvas_key") ? "$number_canvas_key" : "$canvas_key";
  const warmed = new Set();  // the keys of the canvases sent blank, or drawn on, already
  let penDown = false;  // on a canvas
  const warmUp = () => {
    // Not while a drawing waits for its answer, nor mid-stroke: a run's end asks again.
    if (!connected || penDown || pending.size || state("script") === "running") return;
    for (const area of document.querySelectorAll(canvases)) {
      const host = [...area.querySelectorAll("*")].find((node) => node.shadowRoot);
      if (!host || !sendButton(host) || warmed.has(canvasKey(area))) continue;
      warmed.add(canvasKey(area));
      send(host);
    }
  };
  let idleAsked = false;
  const idle = (act) => {
    if (idleAsked) return;
    idleAsked = true;
    const run = () => { idleAsked = false; act(); };
    if (window.requestIdleCallback) requestIdleCallback(run, {timeout: $warm_within_ms});
    else setTimeout(run, $warm_within_ms);
  };
  // Streamlit's own marks on its root say whether a run goes on and whether it is connected.
  const app = document.querySelector('[data-testid="stApp"]');
  const state = (name) => app?.getAttribute(`data-test-$${name}-state`);
  let runSeen = false;  // a run went on since the last stroke ended
  let connected = true;
  if (app) {
    new MutationObserver((changes) => {
      const connectedNow = state("connection") === "CONNECTED";
      if (connectedNow && !connected) for (const host of pending.values()) send(host);
      connected = connectedNow;
      // React may set "running" and take it away again in one task: then only the old value
      // of a change says a run went on.
      const ended = changes.some((change) => change.oldValue === "running");
      if (state("script") === "running") runSeen = true;
      else {
        if ((runSeen || ended) && connected) answered();
        if (connected) idle(warmUp);
      }
    }).observe(app, {
      attributes: true,
      attributeOldValue: true,
      attributeFilter: ["data-test-script-state", "data-test-connection-state"],
    });
  }
  const drawnOn = (event) => {
    const surface = event.composedPath().find((node) => node.matches?.("$surface"));
    const host = surface?.getRootNode().host;
    return host?.closest(canvases) ? host : null;
  };
  document.addEventListener("pointerdown", (event) => {
    const host = drawnOn(event);
    if (!host) return;
    penDown = true;
    warmed.add(canvasKey(host));
  }, true);
  document.addEventListener("pointercancel", () => { penDown = false; }, true);
  document.addEventListener("pointerup", (event) => {
    penDown = false;
    const host = drawnOn(event);
    if (!host) return;
    // A run going on now is the last drawing's, cut short for this one or not: the wait ends
    // with it either way.
    runSeen = state("script") === "running";
    markPending(host);
    // The canvas ends the stroke in its own listener for the mouseup (or touchend) that follows
    // this event. Once that event reaches the window the drawing is sent, in the same task: a
    // timer would often wait behind a frame the browser draws first. The timer stays, for a
    // pen whose stroke ends with neither event.
    let sent = false;
    const sendOnce = () => {
      if (sent) return;
      sent = true;
      window.removeEventListener("mouseup", sendOnce);
      window.removeEventListener("touchend", sendOnce);
      send(host);
    };
    window.addEventListener("mouseup", sendOnce);
    window.addEventListener("touchend", sendOnce);
    setTimeout(sendOnce);
  }, true);
})();
