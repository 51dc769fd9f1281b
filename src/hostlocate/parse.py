"""Reported text to the URL a browser would open, and what is known of its host.

Hotline reports arrive defanged (``hxxp://bad[.]example``), wrapped in quotes
or prose, without a scheme, or in IP forms only a URL parser understands
(``http://0x7f.1/``). Tracing the wrong host sends a notice to the wrong
country, so the host is taken exactly as the WHATWG URL Standard (what browsers
do) derives it, through ada-url; everything before that only undoes what
people and tools do to URLs in reports. docs/parsing.md lists the rules.

The work per input is: tidy and refang the text (skipped by a fast path for
text that is already a plain URL), pick the URL out of it, give it a scheme,
parse with ada. The per-host work (Unicode form, PSL, special class) is
memoised, since batches repeat hosts.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import unquote

import ada_url
import msgspec

from hostlocate import ipclass, psl
from hostlocate._tidy import (
    _AUTHORITY_END,
    _IPV6_LIKE,
    _SCHEME,
    _TRAILING,
    _fold_wide,
    _pick,
    _refang_authority,
    _refang_text,
    _scheme_end,
    _strip_ends,
    _trim,
    _unwrap,
)
from hostlocate._tidy import (
    DEFAULT_PORTS as DEFAULT_PORTS,
)
from hostlocate._tidy import refang as refang
from hostlocate.errors import ErrorCode, InvalidURLError
from hostlocate.models import ReportedURL

MAX_INPUT_CHARS = 8192
"""Longer input is refused with ``too_long`` (no reported URL is that long;
browsers and servers commonly stop near this size)."""

UNSUPPORTED_SCHEMES = frozenset(
    {
        "about", "blob", "callto", "chrome", "chrome-extension", "data", "file", "ftps",
        "geo", "git", "gopher", "im", "intent", "irc", "ircs", "itms", "javascript", "jar",
        "ldap", "ldaps", "magnet", "mailto", "market", "moz-extension", "news", "nntp",
        "resource", "rtsp", "sftp", "sip", "sips", "skype", "smb", "sms", "snews", "ssh",
        "svn", "tel", "telnet", "urn", "vbscript", "view-source", "webcal", "xmpp",
    }
)  # fmt: skip
"""Schemes recognised (and refused) even without ``//`` after the colon."""

_CACHE_SIZE = 1 << 16
_MAX_PASSES = 3

# --- patterns of the URL ---------------------------------------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")
_ENCODED_URL = re.compile(r"(?:https?|ftp|wss?)%3A%2F%2F", re.IGNORECASE)
_PORT_ONLY = re.compile(r"\d+(?:$|[/?#\\])")
_FORBIDDEN_HOST = frozenset("\x00\t\n\r #/:<>?@[\\]^|%\x7f") | frozenset(map(chr, range(0x20)))
_NUMERIC_LABEL = re.compile(r"\d+|0[xX][0-9A-Fa-f]*")

# Text that is already a plain URL (or host) needs none of the rules above:
# every rule needs a character these patterns exclude.
_PLAIN_PATH = r"(?:[/?#][^\s\x00-\x1f\x7f\[\](){}\\^\"'<>`|]*)?"  # C0: the parser trims it
_PLAIN_HOST_PART = (
    r"(?:[\w\-]+(?:\.[\w\-]+)+|[0-9]+|0[xX][0-9A-Fa-f]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?"
)
_PLAIN = re.compile(r"((?i:https?|ftp|wss?)://)?" + _PLAIN_HOST_PART + _PLAIN_PATH)


# --- the URL ---------------------------------------------------------------------


def _plain(text: str) -> tuple[str, bool] | None:
    """*text* with its scheme and whether one was assumed, if no rule can apply to it."""
    if text[-1] in _TRAILING:
        return None
    match = _PLAIN.fullmatch(text)
    if match is None:
        return None
    if match.start(1) == 0:
        return text, False
    if "__" in text:  # ``http__host``: a defanged scheme
        return None
    return "http://" + text, True


def _prepare(text: str, *, checked: bool = False) -> tuple[str, bool, bool, bool]:
    """Tidy, refang and give a scheme to *text*; raises for what cannot be a web URL.

    Returns the text for the WHATWG parser, whether the scheme was assumed,
    whether the text was defanged, and whether it was plain (no rule applied).
    """
    if len(text) > MAX_INPUT_CHARS:
        raise InvalidURLError(
            f"input is {len(text):,} characters; the limit is {MAX_INPUT_CHARS:,}",
            code=ErrorCode.TOO_LONG,
        )
    given = text
    text = _strip_ends(text)
    if "\t" in text or "\n" in text or "\r" in text:  # as the URL parser does
        text = text.replace("\t", "").replace("\n", "").replace("\r", "")
    if not text.isascii():
        text = _fold_wide(text)
    if not text:
        raise InvalidURLError("the input is empty", code=ErrorCode.EMPTY_INPUT)
    plain = None if checked and text == given else _plain(text)
    if plain is not None:
        return plain[0], plain[1], False, True

    tidy = _unwrap(text)
    refanged = _refang_text(tidy) if tidy else tidy
    defanged = refanged != tidy
    plain = _plain(refanged) if refanged else None
    if plain is not None:
        return plain[0], plain[1], defanged, True

    candidate = _trim(_unwrap(_pick(refanged)))
    if _ENCODED_URL.match(candidate):  # a whole URL percent-encoded, as in a query
        candidate = _trim(unquote(candidate))
        defanged = True
    if not candidate:
        raise InvalidURLError("the input holds no URL", code=ErrorCode.EMPTY_INPUT)

    url, start, assumed = _with_scheme(candidate)
    refanged_url = _refang_authority(url, start, spaces=defanged or assumed)
    return refanged_url, assumed, defanged or refanged_url != url, False


def _with_scheme(text: str) -> tuple[str, int, bool]:
    """*text* with a scheme (``http://`` assumed when none), and where its host starts."""
    head = _AUTHORITY_END.split(text, maxsplit=1)[0]
    if _IPV6_LIKE.fullmatch(head) and head.count(":") >= 2 and _is_ipv6(head):
        return "http://[" + head + "]" + text[len(head) :], 8, True
    match = _SCHEME.match(text)
    if match is not None:
        word = match.group(1).lower()
        rest = text[match.end() :]
        if word in DEFAULT_PORTS:
            return text, _scheme_end(text), False
        if (
            word in UNSUPPORTED_SCHEMES
            or rest.startswith(("//", "\\\\"))
            or not (
                "." in word or _PORT_ONLY.match(rest) or "@" in _AUTHORITY_END.split(rest, 1)[0]
            )
        ):
            raise InvalidURLError(
                f"scheme {word!r} is not a web URL (accepted: {', '.join(DEFAULT_PORTS)})",
                code=ErrorCode.UNSUPPORTED_SCHEME,
            )
    if text[:1] in "/\\":
        if text[1:2] not in ("/", "\\"):
            raise InvalidURLError("a path without a host", code=ErrorCode.NO_HOST)
        return "http:" + text, 5, True
    return "http://" + text, 7, True


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


class _HostFacts(NamedTuple):
    host_unicode: str
    suffixes: psl.SuffixMatch
    special: str | None
    embedded_ipv4: str | None = None
    ip_embedding: str | None = None


_NO_SUFFIX = psl.SuffixMatch(None, None, None, None)

IPV4_MAPPED = "ipv4_mapped"
"""``ip_embedding`` of ``::ffff:a.b.c.d`` (RFC 4291 section 2.5.5.2)."""
NAT64 = "nat64"
"""``ip_embedding`` of ``64:ff9b::a.b.c.d`` and ``64:ff9b:1::/48`` (RFC 6052, RFC 8215)."""

_MAPPED_HIGH = 0xFFFF  # the 96 bits above a mapped address
_NAT64_WELL_KNOWN = 0x64FF9B << 64  # the 96 bits of 64:ff9b::/96
_NAT64_LOCAL_USE = 0x64FF9B0001  # the 48 bits of 64:ff9b:1::/48


def _embedded(host: str) -> tuple[str, str] | None:
    """The IPv4 address an IPv6 literal stands for, and how it is embedded.

    A mapped address reaches the IPv4 host itself; a NAT64 address reaches it
    through a translator. Either way the content is on the IPv4 host. Inside
    the local-use /48 the address is read from the last 32 bits, as in a /96
    sub-prefix (the form RFC 8215 expects most networks to use).
    """
    value = int(ipaddress.IPv6Address(host))
    high = value >> 32
    if high == _MAPPED_HIGH:
        kind = IPV4_MAPPED
    elif high == _NAT64_WELL_KNOWN or value >> 80 == _NAT64_LOCAL_USE:
        kind = NAT64
    else:
        return None
    return str(ipaddress.IPv4Address(value & 0xFFFFFFFF)), kind


def _display(host: str) -> str:
    """*host* for people: each A-label that IDNA accepts shown in Unicode, others kept.

    The ``idna`` package checks a label against IDNA 2008 (after the UTS #46
    mapping) and the Unicode form must encode back to the same A-label; a label
    that fails (a symbol, a bad A-label) is shown as the A-label it is, so what
    is shown never names another host than the one looked up.
    """
    import idna  # only for hosts with A-labels: its tables cost ~10 ms to import

    labels = host.split(".")
    for index, label in enumerate(labels):
        if label.startswith("xn--"):
            try:
                unicode_label = idna.decode(label, uts46=True)
                if idna.encode(unicode_label, uts46=True) == label.encode("ascii"):
                    labels[index] = unicode_label
            except (idna.IDNAError, UnicodeError, ValueError):
                pass
    return ".".join(labels)


@lru_cache(maxsize=_CACHE_SIZE)
def _host_facts(host: str, version: int, psl_list: psl.PublicSuffixes | None) -> _HostFacts:
    """Per-host work, memoised: batches repeat hosts."""
    if version:
        embedded = _embedded(host) if version == 6 else None
        if embedded is not None:
            special = ipclass.classify_ip(embedded[0])
            return _HostFacts(host, _NO_SUFFIX, special, embedded[0], embedded[1])
        return _HostFacts(host, _NO_SUFFIX, ipclass.classify_ip(host))
    unicode_host = host
    if "xn--" in host:
        unicode_host = ada_url.idna.decode(host) or host
    suffixes = psl.match(unicode_host) if psl_list is None else psl_list.match(unicode_host)
    if unicode_host != host:
        suffixes = psl.SuffixMatch(*(_same_labels(host, part) for part in suffixes))
        unicode_host = _display(host)
    return _HostFacts(unicode_host, suffixes, ipclass.classify_host(host))


def _same_labels(host: str, part: str | None) -> str | None:
    """The trailing labels of *host* that *part* (its Unicode form's tail) covers."""
    if part is None:
        return None
    labels = host.rstrip(".").split(".")
    return ".".join(labels[-(part.count(".") + 1) :])


_NO_PORT = -1
_HREF_ONLY = ("href",)
_ada_parse_url = ada_url.parse_url


@lru_cache(maxsize=_CACHE_SIZE)
def _whatwg(url: str) -> tuple[str, int, str, int] | None:
    """ada's parse of *url*: (href, scheme length, hostname, port), or None.

    Memoised: reports repeat whole URLs, not only hosts.

    Asks ada's public API for the serialisation only (the other components
    cost as much again each) and reads host and port from it: a special
    scheme's serialisation is always ``scheme://[userinfo@]host[:port]/...``,
    with ``@`` in the userinfo and ``/`` anywhere before the path
    percent-encoded.
    """
    try:
        href: str = _ada_parse_url(url, _HREF_ONLY)["href"]
    except ValueError:  # not a URL, or lone surrogates (``str.encode`` refuses them)
        if _SURROGATE.search(url) is None:
            return None
        try:  # replaced, as a browser's USVString conversion does
            href = _ada_parse_url(_SURROGATE.sub("\ufffd", url), _HREF_ONLY)["href"]
        except ValueError:
            return None
    scheme_end = href.index(":")
    start = scheme_end + 3
    if href[scheme_end + 1 : start] != "//":
        return href, scheme_end, "", _NO_PORT  # not a special scheme: refused by the caller
    end = href.find("/", start)
    hostport = href[start : len(href) if end < 0 else end].rpartition("@")[2]
    if hostport[:1] == "[":
        close = hostport.index("]") + 1
        host, port = hostport[:close], hostport[close + 1 :]
    else:
        host, _, port = hostport.partition(":")
    return href, scheme_end, host, int(port) if port else _NO_PORT


def _parse_once(
    text: str, psl_list: psl.PublicSuffixes | None, *, checked: bool = False
) -> tuple[ReportedURL, bool]:
    """One pass of the pipeline; also says whether the text was plain.

    *checked*: the caller already knows *text* is not plain as given.
    """
    url, assumed, defanged, plain = _prepare(text, checked=checked)
    return _build(text, url, assumed, defanged, psl_list), plain


def _build(
    text: str, url: str, assumed: bool, defanged: bool, psl_list: psl.PublicSuffixes | None
) -> ReportedURL:
    """Parse the prepared *url* and assemble the record for *text*."""
    parsed = _whatwg(url)
    if parsed is None:
        code, message = _diagnose(url)
        raise InvalidURLError(message, code=code)
    href, scheme_end, host, port = parsed
    scheme = href[:scheme_end]
    if scheme not in DEFAULT_PORTS:  # schemes are checked before; kept as a guard
        raise InvalidURLError(
            f"scheme {scheme!r} is not a web URL", code=ErrorCode.UNSUPPORTED_SCHEME
        )
    if not host:
        raise InvalidURLError("the URL has no host", code=ErrorCode.NO_HOST)
    version = 0
    if host[0] == "[":
        host, version = host[1:-1], 6
    elif host[-1].isdigit() and host.count(".") == 3 and host.replace(".", "").isdigit():
        version = 4  # ada serialises IPv4 as a dotted quad; no valid domain looks so
    elif host[-1] == "." and len(host) > 1:
        # ``photo-galerie.fr.``: the absolute form of the same DNS name. The
        # normalised URL keeps the dot (as WHATWG does); look-ups and the PSL
        # take the name.
        host = host[:-1]
    facts = _host_facts(host, version, psl_list)
    suffixes = facts.suffixes
    return ReportedURL(
        input=text,
        normalized=href,
        scheme=scheme,
        host=host,
        host_unicode=facts.host_unicode,
        port=DEFAULT_PORTS[scheme] if port == _NO_PORT else port,
        registered_domain=suffixes.registered_domain,
        public_suffix=suffixes.public_suffix,
        icann_registered_domain=suffixes.icann_registered_domain,
        icann_public_suffix=suffixes.icann_public_suffix,
        is_ip=bool(version),
        ip_version=version or None,
        special=facts.special,
        defanged=defanged,
        scheme_assumed=assumed,
        embedded_ipv4=facts.embedded_ipv4,
        ip_embedding=facts.ip_embedding,
    )


def parse_reported_url(text: str, *, suffixes: psl.PublicSuffixes | None = None) -> ReportedURL:
    """The URL a browser would open for a reported *text*, with facts about its host.

    Pure: no I/O. Raises :class:`~hostlocate.errors.InvalidURLError` (and
    nothing else, for any ``str``) with a stable ``code`` when *text* holds no
    usable web URL. The normalised URL parses back to itself. ``suffixes``: the
    Public Suffix List to read registered domains from (a pinned or newer
    snapshot); by default the bundled one.
    """
    if not isinstance(text, str):
        raise TypeError(f"reported URL must be str, not {type(text).__name__}")
    plain = _plain(text) if text and len(text) <= MAX_INPUT_CHARS else None
    if plain is not None:
        first = _build(text, plain[0], plain[1], False, suffixes)
        # Plain ASCII serialises to plain ASCII: a fixed point. A Unicode host
        # may map to characters the rules read (``⑷`` becomes ``(4)``): check.
        if text.isascii() or _plain(first.normalized) is not None:
            return first
    else:
        first, plain_ = _parse_once(text, suffixes, checked=True)
        if plain_:
            return first
    # Refanging the output of the WHATWG serialiser can, rarely, change it
    # again (``a[\\]b`` becomes ``a[/]b``); iterate so that the normalised URL
    # is a fixed point and parses back to itself.
    result = first
    for _ in range(_MAX_PASSES):
        normalized = result.normalized
        if _plain(normalized) is not None:  # plain: the URL parser gives it back as is
            break
        try:
            again, plain_ = _parse_once(normalized, suffixes)
        except InvalidURLError as error:
            # A host the URL parser accepts but the refang rules read otherwise
            # (``08(``): no single URL to give, so none is given.
            raise InvalidURLError(
                f"host of {normalized!r} is ambiguous: {error.message}", code=ErrorCode.BAD_HOST
            ) from None
        if again.normalized == normalized:
            break
        result = again
        if plain_:
            break
    if result is first:
        return first
    return _replace(
        result, input=text, defanged=first.defanged, scheme_assumed=first.scheme_assumed
    )


def _replace(result: ReportedURL, **changes: object) -> ReportedURL:
    return msgspec.structs.replace(result, **changes)


def _diagnose(url: str) -> tuple[ErrorCode, str]:
    """Why the WHATWG parser refused *url*: inspect its host part to choose the code."""
    rest = url[url.index(":") + 1 :].lstrip("/\\")
    authority = _AUTHORITY_END.split(rest, maxsplit=1)[0]
    hostport = authority.rpartition("@")[2]
    if hostport.startswith("["):
        host, bracket, port = hostport[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            return ErrorCode.BAD_IP_LITERAL, f"malformed IPv6 literal [{host}"
        port = port[1:]
    else:
        host, _, port = hostport.partition(":")
    if port and (not (port.isascii() and port.isdigit()) or int(port) > 65535):
        return ErrorCode.BAD_PORT, f"port {port!r} is not a number from 0 to 65535"
    if not host:
        return ErrorCode.NO_HOST, "the URL has no host"
    if hostport.startswith("["):
        return ErrorCode.BAD_IP_LITERAL, f"[{host}] is not a valid IPv6 address"
    decoded = _percent_decode(host)
    if decoded.isascii():
        bad = sorted(set(decoded) & _FORBIDDEN_HOST)
        if bad:
            return ErrorCode.BAD_HOST, f"host {host!r} holds forbidden characters {''.join(bad)!r}"
        labels = decoded.split(".")
        if labels[-1] == "" and len(labels) > 1:
            labels.pop()
        if _NUMERIC_LABEL.fullmatch(labels[-1]):
            return ErrorCode.BAD_IP_LITERAL, f"host {host!r} is not a valid IPv4 address"
    if not decoded.isascii() or "xn--" in decoded.lower():
        return ErrorCode.BAD_IDNA, f"host {host!r} is not a valid internationalised domain name"
    return ErrorCode.BAD_URL, f"{url!r} is not a valid URL"


def _percent_decode(host: str) -> str:
    return unquote(host, errors="replace") if "%" in host else host


def exceeds_dns_limits(host: str) -> bool:
    """True when *host* cannot be a DNS name: over 253 octets or a label over 63.

    The WHATWG parser does not check lengths, so :func:`parse_reported_url`
    accepts such hosts as a browser would; the resolver should not query them.
    """
    if len(host) <= 63:
        return False
    name = host[:-1] if host.endswith(".") else host
    return len(name) > 253 or any(len(label) > 63 for label in name.split("."))


def domain_to_ascii(domain: str) -> str:
    """UTS #46 ToASCII (non-transitional) of *domain*, strict about A-labels.

    Flags as in the URL Standard: CheckHyphens, UseSTD3ASCIIRules and
    VerifyDnsLength off; CheckBidi and CheckJoiners on. Unlike the URL parser,
    which since 2026 passes a pure-ASCII domain through lower-cased, this checks
    every ``xn--`` label (it must decode, hold non-ASCII, and encode back to
    itself) and applies the Bidi Rule to every label of a domain that has a
    right-to-left one. Raises :class:`~hostlocate.errors.InvalidURLError` with
    ``bad_idna``.
    """
    if _SURROGATE.search(domain):
        raise InvalidURLError(f"{domain!r} is not valid Unicode", code=ErrorCode.BAD_IDNA)
    if domain.isascii():
        ascii_form = domain.lower()
        if "xn--" not in ascii_form:
            return ascii_form
    else:
        ascii_form = ada_url.idna.encode(domain).decode("ascii")
        if not ascii_form:
            raise InvalidURLError(
                f"{domain!r} is not a valid internationalised domain name",
                code=ErrorCode.BAD_IDNA,
            )
    labels = ascii_form.split(".")
    for index, label in enumerate(labels):
        if label.startswith("xn--"):
            try:
                decoded = label[4:].encode("ascii").decode("punycode")
            except (UnicodeError, ValueError):
                decoded = ""
            if decoded.isascii():
                raise InvalidURLError(f"{label!r} is not a valid A-label", code=ErrorCode.BAD_IDNA)
            labels[index] = decoded
    if domain.isascii() and ada_url.idna.encode(".".join(labels)) != ascii_form.encode("ascii"):
        raise InvalidURLError(
            f"{domain!r} holds an A-label that is not valid", code=ErrorCode.BAD_IDNA
        )
    if not _bidi_ok(labels):
        raise InvalidURLError(
            f"{domain!r} breaks the Bidi Rule (RFC 5893)", code=ErrorCode.BAD_IDNA
        )
    return ascii_form


_RTL = frozenset({"R", "AL", "AN"})
_RTL_ALLOWED = frozenset({"R", "AL", "AN", "EN", "ES", "CS", "ET", "ON", "BN", "NSM"})
_LTR_ALLOWED = frozenset({"L", "EN", "ES", "CS", "ET", "ON", "BN", "NSM"})


def _bidi_ok(labels: list[str]) -> bool:
    """RFC 5893 section 2, for every label, when any label is right-to-left."""
    classes = [[unicodedata.bidirectional(ch) for ch in label] for label in labels]
    if not any(_RTL.intersection(label) for label in classes):
        return True
    for label in classes:
        if not label:
            continue
        ending = [cls for cls in label if cls != "NSM"]
        last = ending[-1] if ending else label[0]
        if label[0] in ("R", "AL"):
            if not _RTL_ALLOWED.issuperset(label) or last not in ("R", "AL", "EN", "AN"):
                return False
            if "EN" in label and "AN" in label:
                return False
        elif label[0] == "L":
            if not _LTR_ALLOWED.issuperset(label) or last not in ("L", "EN"):
                return False
        else:
            return False
    return True


def clear_caches() -> None:
    """Forget memoised per-host facts and URL parses (for benchmarks and tests)."""
    _host_facts.cache_clear()
    _whatwg.cache_clear()
    ipclass.classify_ip.cache_clear()
    ipclass.classify_host.cache_clear()
    psl.default().clear_cache()
