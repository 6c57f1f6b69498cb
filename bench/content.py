"""Synthetic content for the benchmark: N Dutch posts, each with an English translation.

Deterministic (seeded): the same N gives the same files, so runs are comparable. Each
post is ~600 words of Markdown with headings, lists, emphasis, internal and external
links, and every metadata key the buildcheck plugin requires (title, date, lang,
translation_key, summary) plus slug, author, category and tags, in the header format of
content/blog/*.md. With networks (a list of slugs) each post also names one or two
networks (``networks:``) and links one inline as ``{network}<slug>``.

Two styles (``style=``):

* "real" (the default): written as editors write. About one sentence in seven has
  quotation marks (straight and curly), a dash (`--` or –), an ellipsis (`...` or …), an
  apostrophe (mkb'ers, KNN’s) or an abbreviation (bijv., o.a., e.g.); every fifth post has a
  table; every fourth shows a picture (one of PICTURES, written by the site's preparation).
  The typography and table passes of the build then have work to do, as on real posts.
* "plain": the older synthetic set, without any of that (a second figure, for comparison).

And a third set, not generated: copies of the site's own posts (write_site_copies), each
translation pair `count` times under its own slug, translation key, title and date.
"""

import random
import re
import time
from datetime import datetime, timedelta
from pathlib import Path

import yaml

POST_WORDS = 560  # body words counted while generating; with lists and links ~600 in all

# --- vocabulary --------------------------------------------------------------------------
NL = {
    "subjects": ["Samenwerking", "Een goed netwerk", "De biobased economie", "Circulair ondernemen",
                 "Het mkb in Noord-Nederland", "Een coöperatie", "Kennisdeling", "Groene chemie",
                 "Een gezamenlijke aanvraag", "Projectmanagement", "De regio", "Innovatie"],
    "verbs": ["versterkt", "vraagt om", "begint bij", "draait om", "groeit door", "verandert",
              "versnelt", "steunt op", "profiteert van", "leert van"],
    "objects": ["vertrouwen tussen ondernemers", "een heldere doelgroep", "korte lijnen",
                "gedeelde machinerie", "een onafhankelijke coördinator", "concrete projecten",
                "de juiste partners", "een realistische planning", "duidelijke afspraken",
                "regionale kennisinstellingen", "subsidie voor een pilot", "een open houding"],
    "tails": ["in Groningen, Friesland en Drenthe", "sinds de eerste bijeenkomst",
              "zonder extra vergaderingen", "voor kleine en grote bedrijven", "op de lange termijn",
              "met meetbare resultaten", "in de hele keten", "tegen lage kosten"],
    "openers": ["Volgens ons", "In de praktijk", "Na jaren ervaring", "Voor veel ondernemers",
                "Bij KNN Advies", "Eerlijk gezegd", "Opvallend genoeg", "Daarom"],
    "headings": ["Waar begin je?", "Wat levert het op?", "De rol van de coördinator", "Valkuilen",
                 "Een voorbeeld uit de praktijk", "Hoe nu verder?", "Wat wij leerden", "Kosten en baten"],
    "titles": ["{s} in {n} stappen", "Waarom {s2} werkt", "{s}: {n} lessen", "Over {s2} en de regio",
               "Wat {s2} ons leerde ({n})", "{s}, deel {n}"],
    "categories": ["Samenwerken", "Biobased economie", "Netwerken", "Innovatie", "Regio"],
    "tags": ["samenwerking", "netwerken", "biobased economie", "circulair", "mkb", "groene chemie",
             "coöperatie", "subsidie", "kennisdeling", "projectmanagement", "Groningen", "Drenthe",
             "Friesland", "pilot", "recycling", "biocomposieten", "innovatie", "onderwijs",
             "landbouw", "energie"],
    "more": "Lees ook", "contact": "Neem contact met ons op", "see": "Meer over het netwerk",
}
EN = {
    "subjects": ["Collaboration", "A good network", "The biobased economy", "Circular business",
                 "Small business in the Northern Netherlands", "A cooperative", "Knowledge sharing",
                 "Green chemistry", "A joint application", "Project management", "The region", "Innovation"],
    "verbs": ["strengthens", "calls for", "starts with", "revolves around", "grows through", "changes",
              "speeds up", "relies on", "benefits from", "learns from"],
    "objects": ["trust between entrepreneurs", "a clear target group", "short lines of communication",
                "shared machinery", "an independent coordinator", "concrete projects",
                "the right partners", "a realistic schedule", "clear agreements",
                "regional knowledge institutions", "funding for a pilot", "an open attitude"],
    "tails": ["in Groningen, Friesland and Drenthe", "since the first meeting",
              "without extra meetings", "for small and large companies", "in the long run",
              "with measurable results", "across the whole chain", "at low cost"],
    "openers": ["In our view", "In practice", "After years of experience", "For many entrepreneurs",
                "At KNN Advies", "Frankly", "Remarkably", "That is why"],
    "headings": ["Where do you start?", "What does it bring?", "The coordinator's role", "Pitfalls",
                 "An example from practice", "What next?", "What we learned", "Costs and benefits"],
    "titles": ["{s} in {n} steps", "Why {s2} works", "{s}: {n} lessons", "On {s2} and the region",
               "What {s2} taught us ({n})", "{s}, part {n}"],
    "categories": ["Collaboration", "Biobased economy", "Networks", "Innovation", "Region"],
    "tags": ["collaboration", "networks", "biobased economy", "circular", "small business", "green chemistry",
             "cooperative", "funding", "knowledge sharing", "project management", "Groningen", "Drenthe",
             "Friesland", "pilot", "recycling", "biocomposites", "innovation", "education",
             "agriculture", "energy"],
    "more": "Read also", "contact": "Get in touch with us", "see": "More about the network",
}
AUTHORS = ["Jelmer", "Willemien", "Karin", "Niels"]
PICTURES = [f"images/bench-{n}.jpg" for n in range(1, 5)]  # referenced by every fourth "real" post
# What real sentences have and the "plain" ones lack, per language: each a function of a sentence.
QUOTES = {"nl": ['"{x}", zei een deelnemer.', "“{x}”, aldus de coördinator.", "Het motto: ‘{x}’."],
          "en": ['"{x}," one member said.', "“{x},” the coordinator said.", "The motto: ‘{x}’."]}
DASHES = {"nl": ["{x} -- en dat merk je.", "{x} – niet meer, niet minder.", "{x} --- zo simpel is het."],
          "en": ["{x} -- and it shows.", "{x} – no more, no less.", "{x} --- it is that simple."]}
ELLIPSES = {"nl": ["{x}...", "{x}… of toch niet?"], "en": ["{x}...", "{x}… or is it?"]}
APOSTROPHES = {"nl": ["{x}, zeggen mkb'ers.", "{x}, volgens KNN’s ervaring."],
               "en": ["{x}, small firms' owners say.", "{x}, in KNN’s experience."]}
ABBREVIATIONS = {"nl": ["{x}, bijv. in de chemie.", "{x}, o.a. met de RUG.", "{x}, d.w.z. samen."],
                 "en": ["{x}, e.g. in chemistry.", "{x}, i.e. together.", "{x}, incl. the RUG."]}
EXTERNAL = ["https://www.rug.nl/", "https://www.hanze.nl/", "https://www.rvo.nl/", "https://www.snn.nl/"]


def _sentence(rng, voc):
    s = f"{rng.choice(voc['subjects'])} {rng.choice(voc['verbs'])} {rng.choice(voc['objects'])}"
    if rng.random() < 0.6:
        s += f" {rng.choice(voc['tails'])}"
    if rng.random() < 0.3:
        s = f"{rng.choice(voc['openers'])}: {s[0].lower()}{s[1:]}"
    return s + "."


def _real(rng, voc, sentence):
    """About one sentence in seven as editors write them (see the module's docstring)."""
    if rng.random() >= 1 / 7:
        return sentence
    lang = "nl" if voc is NL else "en"
    kind = rng.choice((QUOTES, DASHES, ELLIPSES, APOSTROPHES, ABBREVIATIONS))
    return rng.choice(kind[lang]).format(x=sentence[:-1])


def _table(rng, voc, lang):
    head = "| Partner | Rol | Sinds |" if lang == "nl" else "| Partner | Role | Since |"
    rows = [f"| {rng.choice(voc['objects']).capitalize()} | {rng.choice(voc['verbs'])} | {2000 + rng.randrange(25)} |"
            for _ in range(4)]
    return "\n".join([head, "|---|---|---:|", *rows])


def _paragraph(rng, voc, sentences, style="plain"):
    words = [_sentence(rng, voc) for _ in range(sentences)]
    if style == "real":
        words = [_real(rng, voc, w) for w in words]
    i = rng.randrange(len(words))
    first, _, rest = words[i].partition(" ")
    words[i] = f"**{first}** {rest}" if rng.random() < 0.5 else f"*{first}* {rest}"
    return " ".join(words)


def _body(rng, voc, lang, index, count, networks, style="plain"):
    """About POST_WORDS words of Markdown; deterministic for (rng state, index)."""
    blocks = []
    words = 0
    section = 0
    headings = rng.sample(voc["headings"], len(voc["headings"]))
    while words < POST_WORDS:
        if section == 1 or (section and section % 2 == 0):
            blocks.append(f"## {headings[section % len(headings)]}")
        para = _paragraph(rng, voc, rng.randint(3, 6), style)
        blocks.append(para)
        words += len(para.split())
        if section == 1:
            items = [_sentence(rng, voc)[:-1] for _ in range(4)]
            blocks.append("\n".join(f"- {x}" for x in items))
            words += sum(len(x.split()) for x in items)
        if section == 3 and style == "real" and index % 5 == 0:
            blocks.append(_table(rng, voc, lang))
        if section == 2 and style == "real" and index % 4 == 0:
            alt = "Foto van de bijeenkomst" if lang == "nl" else "Photo of the meeting"
            blocks.append(f"![{alt}](/{PICTURES[index % len(PICTURES)]})")
        if section == 3:
            items = [_sentence(rng, voc)[:-1] for _ in range(3)]
            blocks.append("\n".join(f"{n}. {x}" for n, x in enumerate(items, 1)))
            words += sum(len(x.split()) for x in items)
        if section == 2:
            other = (index * 7 + 3) % count
            link = f"{{filename}}/blog/{post_name(other, lang)}"
            ext = rng.choice(EXTERNAL)
            text = f"{voc['more']}: [{title_for(other, lang)}]({link}), of kijk op [deze site]({ext})." \
                if lang == "nl" else \
                f"{voc['more']}: [{title_for(other, lang)}]({link}), or see [this site]({ext})."
            blocks.append(text)
            words += len(text.split())
        section += 1
    if networks:
        slug = networks[index % len(networks)]
        blocks.append(f"[{voc['see']}]({{network}}{slug}).")
    contact = f"{{filename}}/pages/contact.{lang}.md"
    blocks.append(f"[{voc['contact']}.]({contact})")
    blocks.append(f"*{AUTHORS[index % len(AUTHORS)]}*")
    return "\n\n".join(blocks) + "\n"


def title_for(index, lang):
    voc = NL if lang == "nl" else EN
    rng = random.Random(f"title-{index}")
    pattern = voc["titles"][index % len(voc["titles"])]
    s = voc["subjects"][rng.randrange(len(voc["subjects"]))]
    return pattern.format(s=s, s2=s[0].lower() + s[1:], n=index + 1)


def slug_for(index, lang):
    return f"{'bericht' if lang == 'nl' else 'post'}-{index + 1:05d}"


def post_name(index, lang):
    return f"{slug_for(index, lang)}.md"


def post_text(index, lang, count, networks=None, style="real"):
    voc = NL if lang == "nl" else EN
    rng = random.Random(f"post-{index}-{lang}")
    topic = random.Random(f"topic-{index}")  # the same categories and tags in both languages
    cat = topic.randrange(len(NL["categories"]))
    tags = topic.sample(range(len(NL["tags"])), 3)
    date = datetime(2015, 1, 1, 9, 0) + timedelta(hours=7 * index)
    header = [
        f"title: {title_for(index, lang)}",
        f"slug: {slug_for(index, lang)}",
        f"translation_key: synthetic-{index + 1:05d}",
        f"lang: {lang}",
        f"date: {date:%Y-%m-%d %H:%M}",
        f"author: {AUTHORS[index % len(AUTHORS)]}",
        f"category: {voc['categories'][cat]}",
        f"tags: {', '.join(voc['tags'][t] for t in tags)}",
        f"summary: {_sentence(rng, voc)} {_sentence(rng, voc)}",
    ]
    if networks:
        named = [networks[index % len(networks)], networks[(index * 3 + 1) % len(networks)]]
        header.append(f"networks: {', '.join(dict.fromkeys(named))}")
    return "\n".join(header) + "\n\n" + _body(rng, voc, lang, index, count, networks, style)


_LINK = re.compile(r"\{filename\}/?(?:blog/)([^)#?\s]+)")


def linked_posts(content_dir, blog_dir):
    """Names of files in blog_dir that other content (pages, networks) links to."""
    content_dir, blog_dir = Path(content_dir), Path(blog_dir)
    names = set()
    for p in content_dir.rglob("*"):
        if p.is_file() and p.suffix in (".md", ".yaml", ".yml") and blog_dir not in p.parents:
            names.update(m.group(1) for m in _LINK.finditer(p.read_text(encoding="utf-8", errors="replace")))
    # a kept post must keep its translations too (same translation_key)
    keys = set()
    for name in names:
        if (blog_dir / name).is_file():
            keys.update(re.findall(r"^translation_key:\s*(\S+)", (blog_dir / name).read_text(encoding="utf-8"), re.M))
    for p in blog_dir.glob("*.md"):
        if set(re.findall(r"^translation_key:\s*(\S+)", p.read_text(encoding="utf-8"), re.M)) & keys:
            names.add(p.name)
    return {n for n in names if (blog_dir / n).is_file()}


def write_posts(blog_dir, count, networks=None, keep=(), style="real"):
    """Replace blog_dir's posts with `count` posts in nl and their en translations.

    Files named in `keep` stay (the posts that the site's pages link to: without them the
    build would fail on a broken {filename} link). Returns the written paths (2 * count).
    """
    blog_dir = Path(blog_dir)
    if blog_dir.exists():
        for p in blog_dir.iterdir():
            if p.is_file() and p.name not in keep:
                p.unlink()
    blog_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        for lang in ("nl", "en"):
            p = blog_dir / post_name(i, lang)
            p.write_text(post_text(i, lang, count, networks, style), encoding="utf-8")
            paths.append(p)
    return paths


_HEADER_LINE = re.compile(r"^(title|slug|translation_key|date):[ \t]*(.*)$")


def with_new_paragraph(path, n):
    """The text of the post `path` with a paragraph added that holds a new word, and the word
    (one word: typogrify's widont cannot split it, and Pagefind indexes it whole). The editing
    loop's change (bench/build.py, bench/serve.py)."""
    word = f"bewerking{n}x{time.time_ns()}"
    return Path(path).read_text(encoding="utf-8") + f"\nEen nieuwe alinea: {word}.\n", word


def site_copy(text, k):
    """A post's text as its k-th copy: ' (k)' after its title; '-k' after its slug and
    translation key; its date k days later (the date's own format kept)."""
    lines = text.split("\n")
    end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"), None) \
        if lines and lines[0].strip() == "---" else None
    if end is None:  # a header without --- ends at the first empty line
        end = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    for i in range(end):
        m = _HEADER_LINE.match(lines[i])
        if not m:
            continue
        key, value = m.groups()
        if key == "title":
            value = f"{value} ({k})"
        elif key in ("slug", "translation_key"):
            value = f"{value}-{k}"
        else:
            day = re.match(r"(\d{4}-\d{2}-\d{2})(.*)$", value)
            if day:
                value = (datetime.strptime(day.group(1), "%Y-%m-%d") - timedelta(days=k)).strftime("%Y-%m-%d") \
                    + day.group(2)
        lines[i] = f"{key}: {value}"
    return "\n".join(lines)


def write_site_copies(blog_dir, count):
    """Beside the site's own posts in blog_dir, copies of them up to `count` translation pairs in
    all (each pair copied alike). Returns the written paths."""
    blog_dir = Path(blog_dir)
    own = sorted(p for p in blog_dir.glob("*.md"))
    pairs = max(1, len({m for p in own for m in re.findall(r"^translation_key:\s*(\S+)",
                                                                p.read_text(encoding="utf-8"), re.M)}))
    paths = []
    for k in range(1, count // pairs):
        for p in own:
            dest = blog_dir / f"{p.name.split('.')[0]}-{k}.{'.'.join(p.name.split('.')[1:])}"
            dest.write_text(site_copy(p.read_text(encoding="utf-8"), k), encoding="utf-8")
            paths.append(dest)
    return paths


# --- networks ----------------------------------------------------------------------------
NETWORK_COUNT = 20  # the networks of a benchmark site, and those the form service is loaded with
NETWORK_KINDS = ["cooperative", "cluster", "platform", "association", "network"]


def network_data(index, count):
    """One network as a mapping valid against networks/network.schema.json."""
    slug = f"netwerk-{index + 1:02d}"
    rng = random.Random(f"network-{index}")
    nl_words = " ".join(_sentence(rng, NL) for _ in range(8))
    en_words = " ".join(_sentence(rng, EN) for _ in range(8))
    data = {
        "slug": slug,
        "name": {"nl": f"Samenwerkingsverband {index + 1}", "en": f"Partnership {index + 1}"},
        "short_name": {"nl": f"SV{index + 1}", "en": f"P{index + 1}"},
        "kind": NETWORK_KINDS[index % len(NETWORK_KINDS)],
        "region": {"nl": "Noord-Nederland", "en": "Northern Netherlands"},
        "founded": 2000 + index,
        "themes": [{"nl": NL["tags"][(index + k) % len(NL["tags"])], "en": EN["tags"][(index + k) % len(EN["tags"])]}
                   for k in range(3)],
        "summary": {"nl": _sentence(rng, NL), "en": _sentence(rng, EN)},
        "description": {"nl": nl_words, "en": en_words},
        "members": [{"name": f"Bedrijf {index + 1}-{m + 1} B.V.", "kind": "company"} for m in range(3)],
        "website": f"https://network-{index + 1}.example.org/",
        "contact": {"name": "Coördinator", "email": f"coordinator{index + 1}@example.org"},
        "join": {"open": True, "questions": [
            {"id": "employees", "type": "number", "label": {"nl": "Aantal medewerkers", "en": "Number of employees"}},
        ]},
        "related": [f"netwerk-{(index + 1) % count + 1:02d}"] if count > 1 else [],
    }
    return data


def write_networks(networks_dir, count=NETWORK_COUNT):
    """Replace networks_dir's YAML files with `count` generated networks; return their slugs."""
    networks_dir = Path(networks_dir)
    networks_dir.mkdir(parents=True, exist_ok=True)
    for p in networks_dir.glob("*.yaml"):
        p.unlink()
    slugs = []
    for i in range(count):
        data = network_data(i, count)
        (networks_dir / f"{data['slug']}.yaml").write_text(
            yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        slugs.append(data["slug"])
    return slugs
