// Site search with Pagefind. Progressive enhancement: without JavaScript the search page
// says so and links to the list of all posts. Pagefind picks the index of the page's language.
// Results come as the visitor types (a moment after the last key), and on Enter at once; the
// address keeps the query (?q=...), so a search can be shared and survives going back. The
// status line, a polite live region, says how many were found, for screen readers too.
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
const input = document.getElementById("search-q");
const form = input.form;
const WAIT_MS = 250; // after the last key
let pagefind = null;
let latest = 0; // the newest search started: an older one that ends later shows nothing
let timer = null;

function say(template, query, count) {
  status.textContent = template.replace("{query}", query).replace("{count}", String(count));
}

function result(data) {
  const li = document.createElement("li");
  const a = document.createElement("a");
  a.href = data.url;
  a.textContent = (data.meta && data.meta.title) || data.url;
  const p = document.createElement("p");
  // Pagefind's excerpt is text from our own pages with <mark> around the hits.
  p.innerHTML = data.excerpt;
  li.append(a, p);
  return li;
}

function remember(query) {
  const address = query ? `?q=${encodeURIComponent(query)}` : location.pathname;
  history.replaceState(null, "", address);
}

async function search(query) {
  const mine = ++latest;
  if (!query) { list.replaceChildren(); status.textContent = ""; return; }
  say(status.dataset.searching, query, 0);
  pagefind = pagefind || await import(document.querySelector("script[data-pagefind]").dataset.pagefind);
  const found = await pagefind.search(query);
  const data = await Promise.all(found.results.slice(0, 20).map((r) => r.data()));
  if (mine !== latest) { return; } // the visitor typed on meanwhile
  list.replaceChildren(...data.map(result));
  say(data.length ? status.dataset.some : status.dataset.none, query, found.results.length);
}

function now() {
  clearTimeout(timer);
  const query = input.value.trim();
  remember(query);
  search(query);
}

input.addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(now, WAIT_MS);
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  now();
});

const initial = new URLSearchParams(location.search).get("q") || "";
input.value = initial;
search(initial.trim());
