"""Registered domains and public suffixes under the bundled, dated PSL snapshot.

Two answers matter for a report: the registered domain with the PSL's private
section (``evil.github.io`` is its own site on the ``github.io`` platform, so
the platform's abuse desk gets the notice) and the ICANN-only one
(``github.io``: whose registrar would get a notice).

The matcher is a flat table of suffix nodes (every tail of every rule, with
whether it ends a rule and in which section), walked from the right as
tldextract walks its trie, so the answers are tldextract's; the tests compare
the two over the PSL's own cases and a large sample of names. For the bundled
snapshot the table is prebuilt (``data/psl/public_suffix_list.nodes``, made by
:func:`compile_nodes`) and loads in about a millisecond; any other list file
(a pinned or downloaded one) is read with tldextract's own parser, which
costs about a tenth of a second once (tldextract imports ``requests``).

Rules of the answers (those of the PSL algorithm and its test file): input is
lower-cased; a leading dot or an empty label gives no answer; a trailing dot is
ignored; a TLD not on the list is a public suffix by the implicit ``*`` rule;
answers keep the input's form (A-labels in, A-labels out; U-labels in,
U-labels out). ``xn--`` labels are matched in their Unicode form, as the list
writes its rules.
"""

from __future__ import annotations

import hashlib
import threading
from functools import cache
from pathlib import Path
from typing import NamedTuple

import ada_url

from hostlocate._resources import data_path
from hostlocate.errors import DataError

SNAPSHOT = "psl/public_suffix_list.dat"
"""The bundled list, relative to the data folder."""

NODES_SUFFIX = ".nodes"
"""A list's prebuilt node table sits beside it: ``public_suffix_list.nodes``."""

_NODES_MAGIC = "# hostlocate psl nodes 1"
_CACHE_SIZE = 1 << 16
_NOT_A_DOMAIN = frozenset("/\\:@?#[]% \t\r\n\u3002\uff0e\uff61")
_END = 1
_PRIVATE = 2


class SuffixMatch(NamedTuple):
    """What the PSL says of one domain; every field None when nothing applies."""

    registered_domain: str | None
    """Public suffix (private section included) plus one label."""
    public_suffix: str | None
    """The longest matching rule, private section included."""
    icann_registered_domain: str | None
    """ICANN-section public suffix plus one label."""
    icann_public_suffix: str | None
    """The longest matching ICANN-section rule."""


_NO_MATCH = SuffixMatch(None, None, None, None)


def nodes_from_rules(public: list[str], private: list[str]) -> dict[str, int]:
    """The node table of a list whose ICANN and private rules are given.

    A key is a rule or a tail of one (``uk`` and ``co.uk`` for ``co.uk``;
    wildcards and exceptions as written, ``*.ck``, ``!www.ck``); its value says
    whether a rule ends there and whether that rule is private. A rule in both
    sections counts as private, as in tldextract's trie.
    """
    nodes: dict[str, int] = {}
    for flag, rules in ((0, public), (_PRIVATE, private)):
        for name in rules:
            dot = name.find(".")
            while dot != -1:
                nodes.setdefault(name[dot + 1 :], 0)
                dot = name.find(".", dot + 1)
            nodes[name] = _END | flag
    return nodes


def read_rules(text: str) -> tuple[list[str], list[str]]:
    """The ICANN and private rules of a list's text, read by tldextract's parser."""
    from tldextract.suffix_list import extract_tlds_from_suffix_list

    public, private = extract_tlds_from_suffix_list(text)
    return list(public), list(private)


def compile_nodes(list_path: Path | str) -> str:
    """The prebuilt node table of the list at *list_path*, as text to ship beside it.

    Header lines give the list's sha256 (the loader uses the table only for
    that exact list), its ``VERSION`` and the node count; then one block per
    flag value, ``=FLAG`` followed by its keys, sorted.
    """
    path = Path(list_path)
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    nodes = nodes_from_rules(*read_rules(text))
    lines = [
        _NODES_MAGIC,
        f"# sha256 {hashlib.sha256(raw).hexdigest()}",
        f"# version {_version_of(text.splitlines()[:50]) or ''}",
        f"# nodes {len(nodes)}",
    ]
    for flag in sorted(set(nodes.values())):
        lines.append(f"={flag}")
        lines.extend(sorted(key for key, value in nodes.items() if value == flag))
    return "\n".join(lines) + "\n"


def _load_nodes(nodes_path: Path, list_digest: str) -> tuple[dict[str, int], str | None] | None:
    """The prebuilt table at *nodes_path* if it was built from the list with *list_digest*."""
    try:
        text = nodes_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    head, sep, body = text.partition("\n=")
    header = head.split("\n")
    if not sep or len(header) != 4 or header[0] != _NODES_MAGIC:
        return None
    if header[1] != f"# sha256 {list_digest}" or not header[3].startswith("# nodes "):
        return None
    nodes: dict[str, int] = {}
    for block in body.split("\n="):
        flag, _, keys = block.partition("\n")
        if not flag.isdigit():
            return None
        nodes.update(dict.fromkeys(keys.split(), int(flag)))
    if str(len(nodes)) != header[3][8:]:
        return None
    return nodes, header[2][10:] or None


def _version_of(lines: list[str]) -> str | None:
    for line in lines:
        if line.startswith("// VERSION:"):
            return line.partition(":")[2].strip()
    return None


class PublicSuffixes:
    """The PSL snapshot at *path* (default: the bundled one)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self._path = Path(path) if path is not None else None
        self._nodes: dict[str, int] | None = None
        self._version: str | None = None
        self._prebuilt = False
        self._lock = threading.Lock()
        self._cache: dict[str, SuffixMatch] = {}

    @property
    def path(self) -> Path:
        """The list file in use."""
        return self._path if self._path is not None else data_path(SNAPSHOT)

    @property
    def version(self) -> str | None:
        """The snapshot's ``// VERSION:`` header, when it has one."""
        if self._nodes is not None:
            return self._version
        with self.path.open(encoding="utf-8") as handle:
            return _version_of([line for _, line in zip(range(50), handle, strict=False)])

    @property
    def prebuilt(self) -> bool:
        """The table was loaded from the prebuilt file (False before the first match)."""
        return self._prebuilt

    def _table(self) -> dict[str, int]:
        nodes = self._nodes
        if nodes is not None:
            return nodes
        with self._lock:
            if self._nodes is None:
                self._nodes = self._build()
            return self._nodes

    def _build(self) -> dict[str, int]:
        path = self.path
        try:
            raw = path.read_bytes()
        except OSError:
            raise DataError(f"public suffix list not found: {path.name}", path=str(path)) from None
        found = _load_nodes(path.with_suffix(NODES_SUFFIX), hashlib.sha256(raw).hexdigest())
        if found is not None:
            self._prebuilt = True
            self._version = found[1]
            return found[0]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"public suffix list unreadable: {exc}", path=str(path)) from exc
        self._version = _version_of(text.splitlines()[:50])
        return nodes_from_rules(*read_rules(text))

    def match(self, domain: str) -> SuffixMatch:
        """Registered domains and suffixes of *domain*, in the form it was given."""
        found = self._cache.get(domain)
        if found is None:
            found = self._match(domain)
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[domain] = found
        return found

    def clear_cache(self) -> None:
        """Forget memoised answers (the parsed list itself is kept)."""
        self._cache.clear()

    def registered_domain(self, domain: str, *, private: bool = True) -> str | None:
        """The registrable domain; ``private=False`` ignores the PSL's private section."""
        found = self.match(domain)
        return found.registered_domain if private else found.icann_registered_domain

    def public_suffix(self, domain: str, *, private: bool = True) -> str | None:
        """The public suffix; ``private=False`` ignores the PSL's private section."""
        found = self.match(domain)
        return found.public_suffix if private else found.icann_public_suffix

    def _match(self, domain: str) -> SuffixMatch:
        name = domain.lower()
        if name.endswith("."):
            name = name[:-1]
        if not name or name.startswith(".") or not _NOT_A_DOMAIN.isdisjoint(name):
            return _NO_MATCH
        labels = name.split(".")
        if "" in labels:
            return _NO_MATCH
        count = len(labels)
        suffix_len, icann_len = _walk(self._table(), _unicode_form(name, count).split("."))
        suffix_len = min(suffix_len, count)
        icann_len = min(icann_len, count)
        return SuffixMatch(
            registered_domain=_tail(labels, suffix_len + 1),
            public_suffix=_tail(labels, suffix_len),
            icann_registered_domain=_tail(labels, icann_len + 1),
            icann_public_suffix=_tail(labels, icann_len),
        )


def _walk(nodes: dict[str, int], labels: list[str]) -> tuple[int, int]:
    """Labels in the public suffix, with and without the private section.

    tldextract's trie walk over the flat table: follow the labels from the
    right while the tail is a node; the last node that ends a rule gives the
    suffix (and the last ICANN one the ICANN suffix). Where the walk stops
    under a wildcard, the wildcard takes one more label, or none for an
    exception. No rule at all: the implicit ``*`` (one label).
    """
    key = ""
    depth = 0
    suffix = icann = 0
    suffix_private = False
    for label in reversed(labels):
        candidate = f"{label}.{key}" if key else label
        flags = nodes.get(candidate)
        if flags is not None:
            key = candidate
            depth += 1
            if flags & _END:
                suffix = depth
                suffix_private = bool(flags & _PRIVATE)
                if not suffix_private:
                    icann = depth
            continue
        wildcard = nodes.get(f"*.{key}" if key else "*")
        if wildcard is not None:
            exception = f"!{label}.{key}" if key else f"!{label}"
            suffix = depth if exception in nodes else depth + 1
            suffix_private = bool(wildcard & _PRIVATE)
        break
    if suffix == 0:
        return 1, 1
    if not suffix_private:
        icann = suffix
    return suffix, icann or 1


def _tail(labels: list[str], count: int) -> str | None:
    return ".".join(labels[-count:]) if count <= len(labels) else None


def _unicode_form(name: str, label_count: int) -> str:
    """*name* with A-labels decoded, or as given when decoding would change its labels."""
    if "xn--" not in name or not name.isascii():
        return name
    decoded = ada_url.idna.decode(name)
    if not decoded:  # one bad label: decode the others, as tldextract does label by label
        decoded = ".".join(
            (ada_url.idna.decode(label) or label) if label.startswith("xn--") else label
            for label in name.split(".")
        )
    if (
        not decoded
        or decoded.count(".") + 1 != label_count
        or not _NOT_A_DOMAIN.isdisjoint(decoded.replace(".", ""))
    ):
        return name
    return decoded


@cache
def default() -> PublicSuffixes:
    """The process-wide matcher over the bundled snapshot."""
    return PublicSuffixes()


def match(domain: str) -> SuffixMatch:
    """:meth:`PublicSuffixes.match` on the bundled snapshot."""
    return default().match(domain)


def registered_domain(domain: str, *, private: bool = True) -> str | None:
    """:meth:`PublicSuffixes.registered_domain` on the bundled snapshot."""
    return default().registered_domain(domain, private=private)


def public_suffix(domain: str, *, private: bool = True) -> str | None:
    """:meth:`PublicSuffixes.public_suffix` on the bundled snapshot."""
    return default().public_suffix(domain, private=private)
