"""Registered domains and public suffixes under the bundled, dated PSL snapshot.

Two answers matter for a report: the registered domain with the PSL's private
section (``evil.github.io`` is its own site on the ``github.io`` platform, so
the platform's abuse desk gets the notice) and the ICANN-only one
(``github.io``: whose registrar would get a notice).

tldextract is the matching engine, pinned to ``data/psl/public_suffix_list.dat``
through a ``file:`` URL with no cache and no fallback: ``suffix_list_urls=()``
would silently use tldextract's own bundled snapshot, and the default fetches
the list over HTTP. The engine is built once, on first use.

Rules of the answers (those of the PSL algorithm and its test file): input is
lower-cased; a leading dot or an empty label gives no answer; a trailing dot is
ignored; a TLD not on the list is a public suffix by the implicit ``*`` rule;
answers keep the input's form (A-labels in, A-labels out; U-labels in,
U-labels out). ``xn--`` labels are decoded before matching because tldextract
decodes them itself at about ten times the cost.
"""

from __future__ import annotations

import gc
import threading
import warnings
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import ada_url

from hostlocate._resources import data_path
from hostlocate.errors import DataError

if TYPE_CHECKING:
    from tldextract import TLDExtract

SNAPSHOT = "psl/public_suffix_list.dat"
"""The bundled list, relative to the data folder."""

_CACHE_SIZE = 1 << 16
_NOT_A_DOMAIN = frozenset("/\\:@?#[]% \t\r\n\u3002\uff0e\uff61")


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


class PublicSuffixes:
    """The PSL snapshot at *path* (default: the bundled one), matched by tldextract."""

    def __init__(self, path: Path | str | None = None) -> None:
        self._path = Path(path) if path is not None else None
        self._engine: TLDExtract | None = None
        self._lock = threading.Lock()
        self._cache: dict[str, SuffixMatch] = {}

    @property
    def path(self) -> Path:
        """The list file in use."""
        return self._path if self._path is not None else data_path(SNAPSHOT)

    @property
    def version(self) -> str | None:
        """The snapshot's ``// VERSION:`` header, when it has one."""
        with self.path.open(encoding="utf-8") as handle:
            for _, line in zip(range(50), handle, strict=False):
                if line.startswith("// VERSION:"):
                    return line.partition(":")[2].strip()
        return None

    def _extractor(self) -> TLDExtract:
        engine = self._engine
        if engine is not None:
            return engine
        with self._lock:
            if self._engine is None:
                self._engine = self._build()
            return self._engine

    def _build(self) -> TLDExtract:
        import tldextract
        from tldextract.suffix_list import SuffixListNotFound

        path = self.path
        if not path.is_file():
            raise DataError(f"public suffix list not found: {path.name}", path=str(path))
        engine = tldextract.TLDExtract(
            cache_dir=None,
            suffix_list_urls=(path.resolve().as_uri(),),
            fallback_to_snapshot=False,
            include_psl_private_domains=True,
        )
        try:
            # Load the list now, not mid-batch. tldextract reads file: URLs through a
            # requests adapter that leaves the open file in a reference cycle: collect
            # it here, while its ResourceWarning is silenced, not at some later GC.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ResourceWarning)
                engine.extract_str("example.com")
                gc.collect()
        except (SuffixListNotFound, ValueError) as exc:
            raise DataError(f"public suffix list unreadable: {exc}", path=str(path)) from exc
        return engine

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
        result = self._extractor().extract_str(
            _unicode_form(name, len(labels)), include_psl_private_domains=True
        )
        suffix_len = result.suffix.count(".") + 1 if result.suffix else 1
        icann_len = result.registry_suffix.count(".") + 1 if result.registry_suffix else 1
        suffix_len = min(suffix_len, len(labels))
        icann_len = min(icann_len, len(labels))
        return SuffixMatch(
            registered_domain=_tail(labels, suffix_len + 1),
            public_suffix=_tail(labels, suffix_len),
            icann_registered_domain=_tail(labels, icann_len + 1),
            icann_public_suffix=_tail(labels, icann_len),
        )


def _tail(labels: list[str], count: int) -> str | None:
    return ".".join(labels[-count:]) if count <= len(labels) else None


def _unicode_form(name: str, label_count: int) -> str:
    """*name* with A-labels decoded, or as given when decoding would change its labels."""
    if "xn--" not in name or not name.isascii():
        return name
    decoded = ada_url.idna.decode(name)
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
