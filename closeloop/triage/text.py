"""Reading a complaint's words: the hazard words that occur (and are not denied), the product model or
line it names, and the spans of text behind a learned suggestion. Pure Python, no database."""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

# The built-in lexicon for lighting and furniture, used wherever no HazardLexicon row applies.
# "划伤" alone is not here: an installer scratching the floor (安装师傅把地板划伤了) is no hazard.
DEFAULT_HAZARD_WORDS = (
    "起火",
    "着火",
    "冒烟",
    "烧焦",
    "烧坏",
    "触电",
    "漏电",
    "带电",
    "电到",
    "爆炸",
    "爆裂",
    "烫伤",
    "受伤",
    "划伤儿童",
    "划伤孩子",
    "把人划伤",
    "倾倒",
    "砸伤",
    "摔伤",
    "夹伤",
)
# Before a hazard word in the same clause: the customer says it did NOT happen, or only fears it.
# Right before the word, or one character before it ("未曾起火"), so that "灯不亮后冒烟" still smokes.
# A negation further away ("没有发生漏电") is not read as one: a hazard missed costs more than one too many.
NEGATIONS = ("没有", "没", "未", "无", "不是", "不会", "不", "并非", "并未")
# Anywhere in the clause before the word: a fear or a precaution, not an event.
FEARS = ("防止", "以免", "避免", "担心", "怕", "会不会", "万一")
NEGATION_REACH = 6  # characters before the word searched
CLAUSE_END = re.compile(r"[，,。.！!？?；;\s、]")


def normalise(text: str) -> str:
    """Full-width letters and digits to ASCII, lower case: 'ＸＤ－１００１' reads as 'xd-1001'."""
    return unicodedata.normalize("NFKC", text or "").lower()


@dataclass(frozen=True)
class Hit:
    word: str
    start: int
    negated: bool


def hazard_hits(text: str, words: Iterable[str]) -> list[Hit]:
    """Each occurrence of a hazard word, with whether a negation in its clause denies it
    ("没有冒烟", "未起火", "担心漏电")."""
    text = normalise(text)
    hits = []
    for word in words:
        w = normalise(word)
        if not w:
            continue
        start = text.find(w)
        while start != -1:
            before = text[max(0, start - NEGATION_REACH) : start]
            clause = CLAUSE_END.split(before)[-1]
            negated = any(clause.endswith(n) or clause[:-1].endswith(n) for n in NEGATIONS) or any(
                f in clause for f in FEARS
            )
            hits.append(Hit(word=word, start=start, negated=negated))
            start = text.find(w, start + len(w))
    return hits


def hazard_words(text: str, words: Iterable[str]) -> list[str]:
    """The hazard words the text affirms (each once, in the order found)."""
    found: list[str] = []
    for hit in sorted(hazard_hits(text, words), key=lambda h: h.start):
        if not hit.negated and hit.word not in found:
            found.append(hit.word)
    return found


def hazard_reading(text: str, words: Iterable[str]) -> tuple[list[str], str]:
    """(the hazard words the text affirms, the text with its denied hazard words blanked out — unchanged
    when none is denied). The second is what the learned hazard model reads, in training and in use, so
    that "没有冒烟" teaches it nothing about smoke and cannot make it flag."""
    hits = sorted(hazard_hits(text, words), key=lambda h: h.start)
    affirmed: list[str] = []
    for hit in hits:
        if not hit.negated and hit.word not in affirmed:
            affirmed.append(hit.word)
    denied = [hit for hit in hits if hit.negated]
    if not denied:
        return affirmed, text
    chars = list(normalise(text))
    for hit in denied:
        for i in range(hit.start, min(len(chars), hit.start + len(normalise(hit.word)))):
            chars[i] = " "
    return affirmed, "".join(chars)


def without_denied(text: str, words: Iterable[str]) -> str:
    return hazard_reading(text, words)[1]


MODEL_CODE = re.compile(r"(?<![a-z0-9])([a-z]{1,5})\s*[-_ ]?\s*(\d{2,6})(?![0-9])")


def model_codes(text: str) -> list[str]:
    """Candidate catalogue models in the text, upper-cased with a hyphen: 'xd1001' → 'XD-1001'."""
    seen: list[str] = []
    for letters, digits in MODEL_CODE.findall(normalise(text)):
        code = f"{letters.upper()}-{digits}"
        if code not in seen:
            seen.append(code)
    return seen


def spans(text: str, grams: Iterable[str], *, limit: int = 5) -> list[str]:
    """The stretches of `text` the given n-grams cover, merged where they touch: the words a reader
    recognises ('物流显示已签收') rather than the model's two-character pieces ('物流', '签收')."""
    low = normalise(text)
    covered = [False] * len(low)
    for gram in grams:
        g = gram.strip()
        if not g:
            continue
        start = low.find(g)
        while start != -1:
            for i in range(start, start + len(g)):
                covered[i] = True
            start = low.find(g, start + 1)
    found: list[str] = []
    i = 0
    while i < len(low):
        if covered[i]:
            j = i
            while j < len(low) and covered[j]:
                j += 1
            piece = text[i:j].strip(" ，,。.！!？?；;、")
            if len(piece) >= 2 and piece not in found:
                found.append(piece)
            i = j
        else:
            i += 1
    return found[:limit]


# --- similarity ------------------------------------------------------------------------------------------

PUNCTUATION = set(" ，,。.！!？?；;、：:（）()\"'“”\n\t")


def bigrams(text: str) -> Counter[str]:
    chars = [c for c in normalise(text) if c not in PUNCTUATION]
    return Counter(a + b for a, b in itertools.pairwise(chars))


def cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(n * b.get(g, 0) for g, n in a.items())
    if not dot:
        return 0.0
    return dot / math.sqrt(sum(n * n for n in a.values()) * sum(n * n for n in b.values()))
