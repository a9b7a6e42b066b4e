/*
 * A screen reader hears each new answer, and each notice ("Saved: a 7."), from a status
 * region of the page's own, out of sight: Streamlit's metrics and toasts are not live
 * regions, and one made live only once it shows would miss its first answer. Once the page
 * has stopped changing for a moment (a run updates it piece by piece, and a half-updated
 * answer is not worth saying), or at the latest a second after it started, the region says
 * what is new: the answer on show (its Prediction and Confidence, with the words under
 * them; a blank "—" is left unsaid, as is an answer hidden while the drawing changed has not
 * been read), and any notice that came since. A blank answer empties the region, so that the
 * next answer, the same as the last or not, is said.
 *
 * Read once by tabs/draw/page_head.py, which leaves this comment out of the page and fills
 * in each $placeholder (string.Template: a `$` of the file's own is written `$$`).
 */
(() => {
  if (window.digitAnnouncer) return;
  window.digitAnnouncer = true;
  const region = document.createElement("div");
  region.id = "$region_id";
  region.setAttribute("role", "status");
  region.setAttribute("aria-live", "polite");
  region.setAttribute("aria-atomic", "true");
  region.style.cssText =
    "position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%);";
  document.body.append(region);
  const text = (element, part) =>
    element.querySelector(`[data-testid="$${part}"]`)?.innerText.trim() ?? "";
  const noticed = new WeakSet();
  let answer = "";
  const announce = () => {
    const metrics = [...document.querySelectorAll('[data-testid="stMetric"]')]
      .filter((metric) => metric.getClientRects().length > 0)
      .map((metric) => ({
        label: text(metric, "stMetricLabel"),
        value: text(metric, "stMetricValue"),
        words: text(metric, "stMetricDelta"),
      }))
      .filter(({label, value}) => $answer_labels.includes(label) && value && value !== "$blank");
    const shown = metrics.length
      ? metrics.map((metric) => Object.values(metric).filter(Boolean).join(" ")).join(", ") + "."
      : "";
    const said = shown && shown !== answer ? [shown] : [];
    if (!shown && answer) region.textContent = "";
    answer = shown;
    for (const notice of document.querySelectorAll('[data-testid="stToast"]')) {
      if (noticed.has(notice)) continue;
      noticed.add(notice);
      said.push(text(notice, "stMarkdownContainer"));
    }
    const words = said.filter(Boolean).join(" ");
    if (words) region.textContent = words;
  };
  let pending = null, waitingSince = 0;
  const announceNow = () => {
    waitingSince = 0;
    announce();
  };
  new MutationObserver(() => {
    clearTimeout(pending);
    waitingSince ||= performance.now();
    if (performance.now() - waitingSince >= $longest_ms) announceNow();
    else pending = setTimeout(announceNow, $quiet_ms);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
})();
