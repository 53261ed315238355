"""Finding English left on a page or in a message that should be all Spanish: every English
text the app wraps for translation (the msgids of locale/es), cut at its placeholders and tags
into the runs of words a reader sees, is looked for in the visible text. A run of three words
or more that appears verbatim is English that was not translated (or not wrapped at all, when
it also carries words no Spanish sentence has: see COMMON)."""

import html
import re
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

PO = Path(__file__).resolve().parents[1] / "locale" / "es" / "LC_MESSAGES" / "django.po"
# What splits a msgid into the runs a page shows whole: placeholders, tags, line ends, and
# the ends of sentences and clauses.
CUTS = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w+\}|<[^>]+>|\n|(?<=[.:;?!])\s+")
# Small words of English that no Spanish sentence uses: a sentence left in English, wrapped
# or not, has some of them.
COMMON = {"the", "your", "you", "please", "with", "and", "is", "are", "this", "that", "for"}


@cache
def english_runs() -> frozenset[str]:
    runs = set()
    with PO.open("rb") as po:
        for message in read_po(po):
            if not message.id:
                continue
            ids = [message.id] if isinstance(message.id, str) else list(message.id)
            strings = [message.string] if isinstance(message.string, str) else message.string
            for text in ids:
                if text in strings:  # the same in both languages (a drug's name)
                    continue
                for run in CUTS.split(text):
                    run = " ".join(run.split()).strip(' .,:;·()“”"')
                    if len(run.split()) >= 3:
                        runs.add(run)
    return frozenset(runs)


def visible(page: str) -> str:
    """The text a person reads on an HTML page: no tags, scripts or styles, entities decoded."""
    page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    page = re.sub(r"(?s)<[^>]+>", " ", page)
    return " ".join(html.unescape(page).split())


def english_left(text: str) -> list[str]:
    """The English runs found in `text`, and its English small words, for a failure message."""
    text = " ".join(text.split())
    found = sorted(run for run in english_runs() if run in text)
    words = set(re.findall(r"[a-z]+", text.lower().replace("'", " ")))
    found += [f"(word) {word}" for word in sorted(COMMON & words)]
    return found
