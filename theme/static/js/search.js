// Site search with Pagefind. Progressive enhancement: without JavaScript the search page
// says so and links to the list of all posts. Pagefind picks the index of the page's language.
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
const input = document.getElementById("search-q");
const form = input.form;

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

async function search(query) {
  list.replaceChildren();
  if (!query) { status.textContent = ""; return; }
  say(status.dataset.searching, query, 0);
  const pagefind = await import(document.querySelector("script[data-pagefind]").dataset.pagefind);
  const found = await pagefind.search(query);
  const data = await Promise.all(found.results.slice(0, 20).map((r) => r.data()));
  data.forEach((d) => list.append(result(d)));
  say(data.length ? status.dataset.some : status.dataset.none, query, found.results.length);
}

const initial = new URLSearchParams(location.search).get("q") || "";
input.value = initial;
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const query = input.value.trim();
  history.replaceState(null, "", query ? `?q=${encodeURIComponent(query)}` : location.pathname);
  search(query);
});
search(initial.trim());
