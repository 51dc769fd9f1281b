"""Reported text to the URL-looking part of it: the tidying before any parsing.

People and tools change URLs in reports: they defang them (``hxxp``, ``[.]``,
``evil dot com``), wrap them in quotes, brackets or prose, end them with a
full stop, or paste them in full-width CJK forms. Undoing that is kept apart
from :mod:`hostlocate.parse`, which takes what is left to the WHATWG parser,
so that each rule here can change without touching how a host is derived.
docs/parsing.md lists the rules.
"""

from __future__ import annotations

import re

__all__ = ["DEFAULT_PORTS", "refang"]

DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}
"""The accepted schemes and their default ports."""

# --- text tidying ------------------------------------------------------------

_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_WRAPPERS = {
    '"': '"', "'": "'", "`": "`", "<": ">", "(": ")", "[": "]", "{": "}",
    "\u201c": "\u201d", "\u2018": "\u2019", "\u00ab": "\u00bb", "\u300c": "\u300d",
}  # fmt: skip
_OPENERS = "".join(_WRAPPERS)
_CLOSERS = {close: open_ for open_, close in _WRAPPERS.items() if open_ != close}
_TRAILING = frozenset(".,;:!?\"'`>)]}\u201d\u2019\u00bb\u300d")
_IPV6_LIKE = re.compile(r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:%[\w.\-]+)?")

# --- refanging -----------------------------------------------------------------

# A scheme word, genuine or defanged, where a URL can start (not inside a path
# or query), followed by a separator: ``hxxps[:]//``, ``http ://``, ``http__``...
_SCHEME_WORD = r"h[tx*0]{2}ps?|f[tx*][px*]s?|x{4}s?|x{5}|wss?"
_SCHEME_FORM = re.compile(
    r"""(?P<open>\[)?(?P<word>"""
    + _SCHEME_WORD
    + r""")(?P<s>\[s\]|\(s\))?(?P<close>\])?
    (?P<sep>
        [ ]*(?:\[:\]|\(:\)|\{:\}|:)[ ]*(?:\[//\]|\(//\)|\{//\}|//|__)(?:/*[ ]+)?
      | [ ]*(?:\[://\]|\(://\)|\{://\})[ ]*
      | [ ]*(?://|__)(?:/*[ ]+)?
      | :
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_SCHEME_BOUNDARY = frozenset(" \t\n\r\f\v\u00a0[({<\"'^>|`")
_SCHEME_BOUNDARY_RE = re.compile(r"[\s\[({<\"'^>|`]")
_DOT_WORD = r"dot|punkt|punto|point"
_BRACKETED = re.compile(
    # Possessive runs and the look-behind keep a long run of brackets or spaces linear.
    r"(?<![ \[({]) *+[\[({]++ *+(?:\.|" + _DOT_WORD + r") *+[\])}]++ *+"  # [.] (.) {.} [dot]
    r"|[\[({](?::|/{1,2}|://|@|at)[\])}]",  # [:] [/] [//] [://] [@] (at)
    re.IGNORECASE,
)
_BRACKET_TEXT = {":": ":", "/": "/", "//": "//", "://": "://", "@": "@", "at": "@"}
_SPACE_DOT = re.compile(r"(?<=[0-9A-Za-z]) +\.(?=[0-9A-Za-z])")
_ESCAPED_DOT = re.compile(r"(?<=\w)[\\^]+\.(?=\w)")
# Only inside the authority, where none of these characters can be legitimate:
# ``(4)`` and ``(a)`` are what UTS #46 maps ``⑷`` and ``⒜`` to: left alone.
_ONE_SIDED_DOT = re.compile(
    r"(?<=\w)(?<!\(\w)(?<!\(\w\w)(?:[\[\](){}]+\.[\[\](){}]*|\.[\[\](){}]+"
    r"|[\[({] *(?:" + _DOT_WORD + r")|(?:" + _DOT_WORD + r") *[\])}])(?=\w)(?!\w{1,2}\))",
    re.IGNORECASE,
)
_OPEN_BEFORE_PATH = re.compile(r"(?<=\w)[ \[({]+$")
_STRICT_OPEN_BEFORE_PATH = re.compile(r"(?<=\w)[\[({]+$")
_BRACKET_CHARS = frozenset("[](){}")
_WRAPPED_LABEL = re.compile(r"^[\[(]([A-Za-z][\w\-]+)[\])](?=\.)")
_DOTLESS_DOT = re.compile(r"(?i:-dot-|(?<! ) ++dot +)|(?<=[a-z0-9])DOT(?=[a-z0-9])|(?<! ) ++DOT +")
_COMMA_IPV4 = re.compile(r"(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})(?=$|:)")

# --- scheme and authority --------------------------------------------------------

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_HTTPISH = re.compile(r"(?i:https?|ftp|wss?)(?::|%3A)(?://|%2F%2F)", re.IGNORECASE)
_HOSTISH = re.compile(r"[\[(<\"']*(?:[\w\-]+\.)+[\w\-]+", re.UNICODE)
_AUTHORITY_END = re.compile(r"[/?#\\]")


# Text pasted from CJK prose: full-width forms of ASCII (U+FF01-FF5E, what NFKC
# folds them to) and the ideographic space and full stops. Folded up to the end
# of the host, where a browser's address bar would, when the scheme or its
# separator is written with them (or there is no scheme).
_WIDE_TO_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {
    0x3000: 0x20,
    0x3002: 0x2E,
    0xFF61: 0x2E,
}
_WIDE = re.compile("[\u3000\u3002\uff01-\uff5e\uff61]")
_FOLDED_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_FOLDED_AUTHORITY_END = re.compile(r"[/?#\\\s]")


def refang(text: str) -> tuple[str, bool]:
    """Undo defanging (``hxxp``, ``[.]``, ``[:]``, ``http[s]``...) in *text*.

    Works on prose too: whitespace-separated tokens are refanged one by one.
    Returns the text and whether anything was changed. Tidying that is not
    defanging (quotes, brackets around the URL, trailing punctuation) is left
    to :func:`parse_reported_url`.
    """
    out = _refang_text(text)
    out = re.sub(r"\S+", lambda m: _refang_authority(m.group(0), _authority_start(m.group(0))), out)
    return out, out != text


def _refang_text(text: str) -> str:
    """The rules that may apply anywhere in the text."""
    out = text
    if "[" in out or "(" in out or "{" in out:
        for form in (" [.] ", "[.]", "(.)", "{.}"):  # the common forms, without the regex
            out = out.replace(form, ".")
        if "[" in out or "(" in out or "{" in out:
            out = _BRACKETED.sub(_bracket_repl, out)
    if ":" in out or "_" in out or "//" in out:
        match = _SCHEME_FORM.match(out)
        if match is not None:
            out = _scheme_repl(match) + out[match.end() :]
        if _SCHEME_BOUNDARY_RE.search(out, 1):  # a URL may start further on
            out = _SCHEME_FORM.sub(_scheme_repl, out)
    # ``example .com``; not in an intact URL, where a space in the host is an
    # error the URL Standard keeps (``http://example .org`` fails in browsers).
    if " ." in out and (out != text or "://" not in out):
        out = _SPACE_DOT.sub(".", out)
    if "\\" in out or "^" in out:
        out = _ESCAPED_DOT.sub(".", out)
    return out


def _canonical_scheme(word: str) -> str:
    word = word.lower()
    if word in DEFAULT_PORTS:
        return word
    if word[0] == "h":
        return "https" if word.endswith("s") else "http"
    if word[0] == "f":
        return "ftps" if len(word) == 4 else "ftp"
    return "https" if len(word) == 5 else "http"


def _scheme_repl(match: re.Match[str]) -> str:
    word, sep = match.group("word"), match.group("sep")
    whole = match.group(0)
    start = match.start()
    if start and not (
        match.string[start - 1] in _SCHEME_BOUNDARY or match.string[start - 1].isspace()
    ):
        return whole  # inside a word, path or query: not where a URL starts
    scheme = _canonical_scheme(word)
    if match.group("s") and scheme in ("http", "ws"):
        scheme += "s"  # ``http[s]``: either works; the secure one is tried
    keep = "[" if match.group("open") and not match.group("close") else ""  # ``[https://...](``
    if sep == ":":
        if scheme == word.lower() and whole == keep + word + ":":
            return whole
        return keep + scheme + ":"
    if whole == keep + word + "://" and scheme == word.lower():
        return whole
    return keep + scheme + "://"


def _bracket_repl(match: re.Match[str]) -> str:
    inner = match.group(0).strip().strip("[](){}").strip().lower()
    return _BRACKET_TEXT.get(inner, ".")


def _authority_start(text: str) -> int:
    """Where the host part starts: after ``scheme://`` when there is one."""
    at = text.find("://")
    if at > 0 and _AUTHORITY_END.search(text, 0, at) is None:
        return at + 3
    return 0


def _refang_authority(text: str, start: int, *, spaces: bool = True) -> str:
    """The rules that only make sense in a host: ``example[dotcom``, ``bad-dot-com``..."""
    end_match = _AUTHORITY_END.search(text, start)
    end = end_match.start() if end_match else len(text)
    auth = text[start:end]
    if not auth:
        return text
    new = auth
    if end_match is not None and new[-1:] in " [({":
        # ``example.com[/path``; ``example.com /path`` too unless the URL is intact
        pattern = _OPEN_BEFORE_PATH if spaces else _STRICT_OPEN_BEFORE_PATH
        new = pattern.sub("", new)
    if not _BRACKET_CHARS.isdisjoint(new):
        new = _WRAPPED_LABEL.sub(r"\1", new)
        new = _ONE_SIDED_DOT.sub(".", new)
    if "." not in new:
        new = _DOTLESS_DOT.sub(".", new)
        if "," in new:
            new = _COMMA_IPV4.sub(_comma_repl, new)
    if new == auth:
        return text
    return text[:start] + new + text[end:]


def _comma_repl(match: re.Match[str]) -> str:
    parts = match.groups()
    if all(int(part) <= 255 for part in parts):
        return ".".join(parts)
    return match.group(0)


# --- tidying -----------------------------------------------------------------------


def _fold_wide(text: str) -> str:
    """*text* with full-width scheme, separators and host folded to ASCII (NFKC's forms).

    ``ｈｔｔｐ：／／ｅｖｉｌ．ｃｏｍ／`` is ``http://evil.com/`` to a browser's address
    bar; to the URL parser its host would be ``http``. Only the part up to the end
    of the host (and the character that ends it) is folded: the path keeps its
    characters. A text that starts with an ASCII ``scheme://`` is left to the URL
    Standard, which maps a full-width host itself (UTS #46).
    """
    if text.isascii() or _WIDE.search(text) is None:
        return text
    folded = text.translate(_WIDE_TO_ASCII)
    start = 0
    scheme = _FOLDED_SCHEME.search(folded)
    if scheme is not None and _AUTHORITY_END.search(folded, 0, scheme.start()) is None:
        start = scheme.end()
        if text[:start].isascii() and scheme.start() == 0:
            return text
    end_match = _FOLDED_AUTHORITY_END.search(folded, start)
    end = len(folded) if end_match is None else end_match.start() + 1
    if folded[:end] == text[:end]:
        return text
    return folded[:end] + text[end:]


def _strip_ends(text: str) -> str:
    return text.strip().strip(_C0_AND_SPACE).strip()


def _unwrap(text: str) -> str:
    """Drop quotes or brackets around the whole text (not an IPv6 literal's)."""
    while len(text) >= 2:
        close = _WRAPPERS.get(text[0])
        if close is None or text[-1] != close:
            break
        inner = text[1:-1]
        if text[0] == "[" and _IPV6_LIKE.fullmatch(inner):
            break
        text = _strip_ends(inner)
    return text


def _scheme_end(text: str) -> int:
    """Length of a leading ``scheme:`` plus slashes, which trimming must not eat."""
    match = _SCHEME.match(text)
    if match is None:
        return 0
    end = match.end()
    while end < len(text) and text[end] in "/\\":
        end += 1
    return end


def _trim(text: str) -> str:
    """Drop unbalanced leading openers and trailing sentence punctuation."""
    while text and text[0] in _OPENERS and _WRAPPERS[text[0]] not in text[1:]:
        text = text[1:]
    keep = _scheme_end(text)
    while len(text) > keep and text[-1] in _TRAILING:
        last = text[-1]
        opener = _CLOSERS.get(last)
        if opener is not None and text.count(opener) >= text.count(last):
            break
        if last == "." and text[-2:-1] == ".":
            break
        text = text[:-1]
    return text


def _pick(text: str) -> str:
    """The URL-looking part of *text*: whole text when it starts with a scheme."""
    match = _SCHEME.match(text)
    if match is not None and (
        match.group(1).lower() in DEFAULT_PORTS or text.startswith("//", match.end())
    ):
        return text
    token = text
    tokens = text.split()
    if len(tokens) > 1:
        token = next((t for t in tokens if _HTTPISH.search(t)), "") or next(
            (t for t in tokens if _HOSTISH.match(t)), text
        )
    found = _HTTPISH.search(token)
    if found is not None and found.start() > 0 and _SCHEME.match(token) is None:
        prefix = token[: found.start()]
        if _AUTHORITY_END.search(prefix) is None:
            token = token[found.start() :]
    return token
