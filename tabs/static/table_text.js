/*
 * A screen reader reads a table (History's labels) from the cells Streamlit's grid lays out
 * for it beside the picture it draws: each cell's value, not what the grid shows. A picture's
 * value is its data URL, hundreds of letters of base64 said one by one. Once the page has
 * stopped changing for a moment, or at the latest a second after it started, each such cell
 * is named in words instead.
 *
 * Read once by tabs/draw/page_head.py, which leaves this comment out of the page and fills
 * in each $placeholder (string.Template: a `$` of the file's own is written `$$`).
 */
(() => {
  if (window.digitTableText) return;
  window.digitTableText = true;
  const name = () => {
    for (const cell of document.querySelectorAll('[data-testid="stDataFrame"] td')) {
      const named = cell.getAttribute("aria-label") === "$picture_name";
      const picture = cell.textContent.startsWith("data:image/");
      if (picture && !named) cell.setAttribute("aria-label", "$picture_name");
      else if (named && !picture) cell.removeAttribute("aria-label");  // the grid reused it
    }
  };
  let pending = null, waitingSince = 0;
  const nameNow = () => {
    waitingSince = 0;
    name();
  };
  new MutationObserver(() => {
    clearTimeout(pending);
    waitingSince ||= performance.now();
    if (performance.now() - waitingSince >= $longest_ms) nameNow();
    else pending = setTimeout(nameNow, $quiet_ms);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
})();
