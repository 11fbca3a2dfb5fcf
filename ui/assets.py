"""The UI's stylesheet and browser scripts. They live in Python strings so that the installed package
carries them without package-data settings.

Colours come from Gradio's theme variables, so light and dark mode both stay readable; the only fixed
colours are the highlight's (dark text on yellow, readable on either background)."""

CSS = """
/* hints under labels: Gradio's grey (#bbbbc2 on white, 1.9:1) is below WCAG AA; the text colour is not */
.gradio-container .info-text { color: var(--body-text-color); }
#chat .cite { font-weight: 600; text-decoration: underline; text-underline-offset: 2px; cursor: pointer;
              color: var(--link-text-color); white-space: nowrap; }
#chat .searched { font-size: .9em; opacity: .8; margin-bottom: .3em; }
#chat .abstained { font-weight: 600; color: var(--color-red-600, #b42318); border: 1px solid currentColor;
                   border-radius: 4px; padding: 0 4px; }
.dark #chat .abstained { color: #fda29b; }
#chat .warning { font-size: .9em; border-left: 3px solid var(--color-accent); padding-left: .5em; }
#chat .weak-evidence { font-size: .9em; font-weight: 600; border-left: 3px solid var(--color-red-600, #b42318);
                       padding-left: .5em; margin-bottom: .3em; }
#sources .strength { font-size: .75em; font-weight: 600; border: 1px solid currentColor; border-radius: 4px;
                     padding: 0 4px; margin-left: .4em; white-space: nowrap; vertical-align: 1px; }
#sources .strength.strong { color: var(--color-green-700, #15803d); }
#sources .strength.weak { color: var(--color-red-600, #b42318); }
.dark #sources .strength.strong { color: #86efac; }
.dark #sources .strength.weak { color: #fda29b; }
#chat .copy-answer { font-size: .8em; border: 1px solid var(--border-color-primary); border-radius: 6px;
                     padding: 1px 8px; background: var(--background-fill-secondary); color: var(--body-text-color); }
#chat .stage { font-style: italic; opacity: .85; }
#chat .stage::before { content: ""; display: inline-block; width: .8em; height: .8em; margin-right: .5em;
                       border: 2px solid currentColor; border-right-color: transparent; border-radius: 50%;
                       animation: rag-spin 1s linear infinite; vertical-align: -1px; }
@keyframes rag-spin { to { transform: rotate(360deg); } }
#chat .draft-label { display: inline-block; font-size: .8em; font-style: normal; font-weight: 600;
                     border: 1px dashed currentColor; border-radius: 4px; padding: 0 4px; margin-left: .4em; }
#chat .draft { opacity: .7; border-left: 3px dashed var(--border-color-primary); padding-left: .5em; }
#chat .stopped { font-style: italic; opacity: .8; }
#sources .turn { margin-bottom: 1em; }
#sources .asked { font-weight: 600; margin-bottom: .4em; }
#sources .source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .5em .8em;
                   margin: .5em 0; background: var(--background-fill-primary); }
#sources .source.active { outline: 3px solid var(--color-accent); }
#sources .title { font-size: 1em; margin: 0; }
#sources .where { font-size: .8em; opacity: .75; margin-bottom: .3em; }
#sources blockquote { margin: .3em 0; padding: 0; border: 0; white-space: pre-line; }
#sources mark, #cite-preview mark { background: #ffe066; color: #111; padding: 0 2px; }
#sources .none { font-style: italic; opacity: .75; }
#sources .back { display: none; font-size: .85em; }
#sources .source.active .back { display: inline-block; }
#sources .show-page { font-size: .85em; margin: .3em 0; padding: 2px 10px; border-radius: 6px;
                      border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary);
                      color: var(--body-text-color); }
#sources .page-view { max-height: 70vh; overflow: auto; margin: .4em 0; border: 1px solid var(--border-color-primary); }
#sources .page-frame { position: relative; cursor: zoom-in; }
#sources .page-view.zoomed .page-frame { width: 200%; cursor: zoom-out; }
#sources .page-frame img { display: block; width: 100%; height: auto; background: #fff; }
#sources .page-frame .highlight { position: absolute; background: rgba(255, 214, 0, .38);
                                  outline: 2px solid #e8a400; border-radius: 2px; pointer-events: none; }
#sources .earlier summary { cursor: pointer; font-weight: 600; margin: .5em 0; }
/* Beside the chat, the panel scrolls on its own: showing a card never scrolls the answer away. */
@media (min-width: 641px) { #sources { max-height: 80vh; overflow-y: auto; overscroll-behavior: contain; } }
#cite-preview { position: fixed; z-index: 1000; max-width: min(420px, 90vw); padding: .5em .7em; border-radius: 8px;
                background: var(--background-fill-primary); color: var(--body-text-color);
                border: 1px solid var(--border-color-primary); box-shadow: 0 4px 16px rgba(0, 0, 0, .25);
                font-size: .9em; }
#cite-preview strong { display: block; margin-bottom: .2em; }
#documents table { width: 100%; border-collapse: collapse; }
#documents .card-title { display: block; font-size: 0.85em; color: var(--body-text-color-subdued); }
#document-preview dl.card { display: grid; grid-template-columns: max-content 1fr; gap: 0.2em 1em; margin: 0.5em 0; }
#document-preview dl.card dt { font-weight: 600; }
#document-preview dl.card dd { margin: 0; }
#documents button.open { all: unset; cursor: pointer; color: var(--link-text-color); text-decoration: underline;
                         overflow-wrap: anywhere; }
#document-preview .facts { opacity: .8; }
#document-preview .pages img { display: inline-block; width: calc(33% - .6em); min-width: 200px; max-width: 100%;
                               margin: .3em; border: 1px solid var(--border-color-primary); background: #fff; }
#document-preview .passages { max-height: 60vh; overflow-y: auto; }
#document-preview .passages .where { font-size: .8em; opacity: .75; }
#document-preview .passages blockquote { margin: .2em 0 .6em; white-space: pre-line; }
#documents th, #documents td { text-align: left; padding: .35em .5em; border-bottom: 1px solid var(--border-color-primary); }
#documents td.number { text-align: right; }
#documents button.remove { padding: 2px 10px; border-radius: 6px; border: 1px solid var(--color-red-500, #d92d20);
                           color: var(--color-red-600, #b42318); background: transparent; }
.dark #documents button.remove { color: #fda29b; }
#upload-status .failed { color: var(--color-red-600, #b42318); font-weight: 600; }
.dark #upload-status .failed { color: #fda29b; }
#eval-metrics table { border-collapse: collapse; width: 100%; }
#eval-metrics td, #eval-metrics th { text-align: left; padding: .3em .5em; border-bottom: 1px solid var(--border-color-primary);
                                      vertical-align: top; }
#eval-metrics .explain { font-size: .85em; opacity: .8; }
#eval-metrics table { max-width: 900px; }
#eval-plots img { display: inline-block; width: calc(50% - 1em); min-width: 320px; max-width: 100%; height: auto;
                 margin: .3em; background: #fff; border-radius: 6px; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 640px) {
  #ask-row, #conversation-row { flex-wrap: wrap; }
  #ask-row > *, #conversation-row > * { min-width: 100% !important; }
  #chat { height: 42vh !important; }  /* the question box shows on load, under the chat */
  /* the documents table becomes one card per document, its Remove button inside the card */
  #documents table, #documents tbody, #documents tr, #documents td { display: block; }
  #documents thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  #documents tr { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .4em .7em; margin: .5em 0; }
  #documents td { border: 0; padding: .1em 0; text-align: left !important; }
  #documents td:first-child { font-weight: 600; overflow-wrap: anywhere; }
  #documents td[data-label] { display: inline-block; margin-right: 1em; }
  #documents td[data-label]::before { content: attr(data-label) ": "; opacity: .75; }
  /* the remove confirmation is a sheet at the bottom of the screen, wherever the list was scrolled to */
  #confirm-remove { position: fixed !important; left: 0; right: 0; bottom: 0; z-index: 50; margin: 0 !important;
                    padding: .6em .8em; box-shadow: 0 -4px 16px rgba(0, 0, 0, .25); }
  #confirm-remove button { white-space: normal; overflow-wrap: anywhere; }
}
"""

# Every click is handled in the capture phase, so the chat never follows a link as a page change.
# - [n] links: hovering or focusing one previews its source; clicking or tapping it marks the card in
#   the Sources panel, opens its PDF page, and the card offers "Back to the answer".
# - "Copy answer and sources" copies the turn's plain text, kept in the panel (textarea#copy-<turn>).
# - Gradio labels each message with its raw markup (aria-label), which screen readers read instead of
#   the text: the label is removed, and each [n] gets the accessible name "source n".
HEAD = """
<script>
(() => {
  let lastCite = null;
  const preview = document.createElement("div");
  preview.id = "cite-preview";
  preview.setAttribute("role", "tooltip");
  preview.hidden = true;

  const citeOf = (node) => node.closest && node.closest("#chat a.cite");
  const cardOf = (cite) => document.getElementById(cite.getAttribute("href").slice(1));

  // An earlier answer's card opens with its own answer's sources only; opening the fold by hand shows them all.
  function showCard(card) {
    const folded = card.closest("details");
    if (folded) {
      const turn = card.closest(".turn");
      folded.querySelectorAll(".turn").forEach((el) => { el.hidden = el !== turn; });
      folded.dataset.one = "1";
      folded.open = true;
    }
    document.querySelectorAll("#sources .source.active").forEach((el) => el.classList.remove("active"));
    card.classList.add("active");
    const panel = document.getElementById("sources");
    const beside = panel && getComputedStyle(panel).overflowY === "auto";
    if (beside) {  // scroll the panel only, so that the clicked answer stays where it is
      const top = card.getBoundingClientRect().top - panel.getBoundingClientRect().top + panel.scrollTop;
      panel.scrollTo({top: Math.max(0, top - 12), behavior: "smooth"});
    } else {
      card.scrollIntoView({behavior: "smooth", block: "center"});
    }
    if (card.dataset.pdf) card.dispatchEvent(new CustomEvent("rag:show-page", {bubbles: true}));
  }

  async function toClipboard(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    const area = document.createElement("textarea");  // plain http on another host: the older way
    area.value = text;
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }

  async function copyAnswer(button) {
    const turn = [...button.classList].find((name) => name.startsWith("turn-"));
    const source = turn && document.getElementById("copy-" + turn.slice(5));
    if (!source) return;
    await toClipboard(source.value);
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = "Copy answer and sources"; }, 2000);
  }

  document.addEventListener("click", (event) => {
    const summary = event.target.closest && event.target.closest("#sources details.earlier > summary");
    if (summary && summary.parentElement.dataset.one) {  // by hand: every earlier answer's sources
      event.preventDefault();
      const folded = summary.parentElement;
      delete folded.dataset.one;
      folded.querySelectorAll(".turn").forEach((el) => { el.hidden = false; });
      folded.open = true;
      return;
    }
    const cite = citeOf(event.target);
    const back = event.target.closest && event.target.closest("#sources a.back");
    const copy = event.target.closest && event.target.closest("#chat button.copy-answer");
    if (!cite && !back && !copy) return;
    event.preventDefault();
    event.stopPropagation();
    preview.hidden = true;
    if (cite && cardOf(cite)) {
      lastCite = cite;
      showCard(cardOf(cite));
    } else if (back) {
      const target = lastCite && lastCite.isConnected ? lastCite : document.getElementById("chat");
      target.scrollIntoView({behavior: "smooth", block: "center"});
      target.focus({preventScroll: true});
    } else if (copy) {
      copyAnswer(copy);
    }
  }, true);

  function showPreview(cite) {
    const card = cardOf(cite);
    if (!card) return;
    const title = document.createElement("strong");
    title.textContent = card.querySelector(".title").textContent;
    const quote = document.createElement("mark");
    quote.textContent = card.querySelector("blockquote mark").textContent;
    preview.replaceChildren(title, quote);
    if (!preview.isConnected) document.body.append(preview);
    preview.hidden = false;
    const at = cite.getBoundingClientRect();
    const left = Math.min(at.left, window.innerWidth - preview.offsetWidth - 8);
    preview.style.left = Math.max(8, left) + "px";
    const below = at.bottom + 6 + preview.offsetHeight < window.innerHeight;
    preview.style.top = (below ? at.bottom + 6 : at.top - 6 - preview.offsetHeight) + "px";
    cite.setAttribute("aria-describedby", "cite-preview");
  }
  for (const [kind, on] of [["mouseover", true], ["focusin", true], ["mouseout", false], ["focusout", false]]) {
    document.addEventListener(kind, (event) => {
      const cite = citeOf(event.target);
      if (cite && on) showPreview(cite);
      else if (cite) preview.hidden = true;
    });
  }

  let queued = false;
  function tidy() {
    queued = false;
    document.querySelectorAll("#chat [aria-label*=\\"'s message\\"]").forEach((el) => el.removeAttribute("aria-label"));
    document.querySelectorAll("#chat a.cite:not([aria-label])").forEach((cite) => {
      cite.setAttribute("aria-label", "source " + cite.getAttribute("href").split("-").pop());
    });
  }
  new MutationObserver(() => {
    if (!queued) { queued = true; requestAnimationFrame(tidy); }
  }).observe(document.documentElement, {subtree: true, childList: true, attributes: true, attributeFilter: ["aria-label"]});
})();
</script>
"""

# The Sources panel's own script (gr.HTML js_on_load, which gives it `server`): a PDF card's page is
# fetched once, then shown with a box over each line of the cited span, placed in percentages of the
# image so that it stays on the text at any width; a click on the page zooms it to twice the panel.
SOURCES_JS = """
function label(card) {
  const hidden = card.querySelector(".page-view").hidden;
  card.querySelector(".show-page").textContent =
    hidden ? "Show page " + card.dataset.page + " with the passage highlighted" : "Hide the page";
}
function toHighlight(view) {
  const boxes = [...view.querySelectorAll(".highlight")];
  if (!boxes.length) return;
  view.scrollTop = boxes[0].offsetTop - view.clientHeight / 3;
  view.scrollLeft = Math.min(...boxes.map((box) => box.offsetLeft)) - 16;
}
async function showPage(card) {
  const view = card.querySelector(".page-view");
  if (!view) return;
  view.hidden = false;
  label(card);
  if (view.dataset.state) return;
  view.dataset.state = "loading";
  view.textContent = "Loading the page…";
  const shown = await server.page_view({source: card.dataset.source, page: Number(card.dataset.page),
                                        start: Number(card.dataset.start), end: Number(card.dataset.end)});
  if (shown.error) {
    view.textContent = shown.error;
    delete view.dataset.state;  // another click tries again
    return;
  }
  const frame = document.createElement("div");
  frame.className = "page-frame";
  frame.title = "Click to zoom";
  const image = document.createElement("img");
  image.src = shown.image;
  image.alt = shown.alt;
  frame.append(image);
  for (const [left, top, width, height] of shown.boxes) {
    const box = document.createElement("span");
    box.className = "highlight";
    Object.assign(box.style, {left: left + "%", top: top + "%", width: width + "%", height: height + "%"});
    frame.append(box);
  }
  view.replaceChildren(frame);
  view.dataset.state = "shown";
  image.decode().then(() => toHighlight(view));
}
element.addEventListener("click", (event) => {
  const button = event.target.closest("button.show-page");
  const frame = event.target.closest(".page-frame");
  if (button) {
    const card = button.closest(".source");
    const view = card.querySelector(".page-view");
    if (view.hidden) showPage(card);
    else { view.hidden = true; label(card); }
  } else if (frame) {
    frame.parentElement.classList.toggle("zoomed");
    toHighlight(frame.parentElement);
  }
});
element.addEventListener("rag:show-page", (event) => showPage(event.target));
"""

# Gradio 6's English strings lack these keys, which then show as "common.upload" etc.
MISSING_STRINGS = {"common.upload": "Upload", "common.complete": "Done", "common.processing": "Processing"}
