"""The reported-URL parser, rule by rule."""

from __future__ import annotations

import ada_url
import pytest

from hostlocate.errors import ErrorCode, InvalidURLError
from hostlocate.parse import (
    MAX_INPUT_CHARS,
    domain_to_ascii,
    exceeds_dns_limits,
    parse_reported_url,
    refang,
)

# input -> expected host, with what else is checked per group below.
REFANG = [
    ("hxxp://evil.example.net/a", "evil.example.net"),
    ("hXXps://evil.example.net/a", "evil.example.net"),
    ("h**p://evil.example.net/", "evil.example.net"),
    ("h00ps://evil.example.net/", "evil.example.net"),
    ("xxxx://evil.example.net/", "evil.example.net"),
    ("xXxXx://evil.example.net/", "evil.example.net"),
    ("fxp://evil.example.net/", "evil.example.net"),
    ("evil[.]example[.]net", "evil.example.net"),
    ("evil(.)example(.)net", "evil.example.net"),
    ("evil{.}example{.}net", "evil.example.net"),
    ("evil[dot]example[DOT]net", "evil.example.net"),
    ("evil(dot)example(dot)net", "evil.example.net"),
    ("evil [.] example [.] net", "evil.example.net"),
    ("http[:]//evil.example.net/", "evil.example.net"),
    ("http[://]evil.example.net/", "evil.example.net"),
    ("http://evil.example.net[/]path", "evil.example.net"),
    ("http[s]://evil.example.net/", "evil.example.net"),
    ("[https]://evil.example.net/", "evil.example.net"),
    ("http ://evil.example.net/", "evil.example.net"),
    ("http:// evil.example.net/", "evil.example.net"),
    ("http__evil.example.net/x", "evil.example.net"),
    ("http//evil.example.net/x", "evil.example.net"),
    ("hxxp://evil[.example.]net", "evil.example.net"),
    ("evil\\.example\\.net", "evil.example.net"),
    ("hxxp://evil[dotexample.net/", "evil.example.net"),
    ("hxxp://evil.example.net[/x", "evil.example.net"),
    ("evil-dot-net", "evil.net"),
    ("evilDOTnet", "evil.net"),
    ("1[.]2[.]3[.]4", "1.2.3.4"),
    ("9,10,11,12", "9.10.11.12"),
    ("[www].example.net", "www.example.net"),
    ("http%3A%2F%2Fevil%2Eexample%2Enet%2Fx", "evil.example.net"),
    ("вирус[.]рф", "xn--b1amyej.xn--p1ai"),
]


@pytest.mark.parametrize(("text", "host"), REFANG, ids=[t for t, _ in REFANG])
def test_refanged_forms(text: str, host: str) -> None:
    url = parse_reported_url(text)
    assert url.host == host
    assert url.defanged
    assert url.input == text


TIDY = [
    ('"https://example.net/a"', "https://example.net/a"),
    ("'https://example.net/a'", "https://example.net/a"),
    ("<https://example.net/a>", "https://example.net/a"),
    ("(https://example.net/a)", "https://example.net/a"),
    ("“https://example.net/a”", "https://example.net/a"),
    ("  https://example.net/a \n", "https://example.net/a"),
    ("https://example.net/a.", "https://example.net/a"),
    ("https://example.net/a),", "https://example.net/a"),
    ("https://example.net.", "https://example.net/"),
    ("https://example.net!", "https://example.net/"),
    ("https://example.net:", "https://example.net/"),
    ("https://en.example.net/wiki/A_(b)", "https://en.example.net/wiki/A_(b)"),
    ("see https://example.net/a now", "https://example.net/a"),
    ("report: example.net/x thanks", "http://example.net/x"),
    ("--~Chttps://example.net/x", "https://example.net/x"),
    (
        "[https://example.net/a](https://example.net/b)",
        "https://example.net/a](https://example.net/b)",
    ),
    ("\x00\x1b http://example.net/\x1f \r ", "http://example.net/"),
    ("h\tt\nt\rp://exa\tmple.net/", "http://example.net/"),
]


@pytest.mark.parametrize(("text", "normalized"), TIDY, ids=[t for t, _ in TIDY])
def test_tidying(text: str, normalized: str) -> None:
    url = parse_reported_url(text)
    assert url.normalized == normalized
    assert not url.defanged


def test_legitimate_urls_are_left_alone() -> None:
    for text in (
        "http://[::1]/",
        "http://[2001:db8::1]:8080/x",
        "https://example.net/a[1].html",
        "https://example.net/?q=hxxp://x",
        "https://v1-dot-app.appspot.com/",
        "https://www.mdot.example.net/pay",
        "https://example.net/path/(x).jpg",
    ):
        assert not refang(text)[1], text
        assert not parse_reported_url(text).defanged, text
    assert parse_reported_url("https://v1-dot-app.appspot.com/").host == "v1-dot-app.appspot.com"


def test_refang_on_prose() -> None:
    text, changed = refang("seen hxxp://evil[.]example and hXXps://bad(.)example/a[.]php")
    assert changed
    assert text == "seen http://evil.example and https://bad.example/a.php"
    assert refang("nothing to see") == ("nothing to see", False)


SCHEMES = [
    ("http://example.net/", "http", 80, False),
    ("HTTPS://EXAMPLE.NET/", "https", 443, False),
    ("ftp://example.net/", "ftp", 21, False),
    ("ws://example.net/", "ws", 80, False),
    ("wss://example.net:8443/", "wss", 8443, False),
    ("example.net", "http", 80, True),
    ("example.net:8080/x", "http", 8080, True),
    ("localhost:3000", "http", 3000, True),
    ("user:pw@example.net", "http", 80, True),
    ("//example.net/x", "http", 80, True),
    ("http:example.net", "http", 80, False),
    ("https:\\\\example.net\\x", "https", 443, False),
]


@pytest.mark.parametrize(
    ("text", "scheme", "port", "assumed"), SCHEMES, ids=[s[0] for s in SCHEMES]
)
def test_schemes_and_ports(text: str, scheme: str, port: int, assumed: bool) -> None:
    url = parse_reported_url(text)
    assert (url.scheme, url.port, url.scheme_assumed) == (scheme, port, assumed)


ERRORS = [
    ("", ErrorCode.EMPTY_INPUT),
    ("   \t\n", ErrorCode.EMPTY_INPUT),
    ('""', ErrorCode.EMPTY_INPUT),
    ("x" * (MAX_INPUT_CHARS + 1), ErrorCode.TOO_LONG),
    ("javascript:alert(1)", ErrorCode.UNSUPPORTED_SCHEME),
    ("JavaScript:alert(1)", ErrorCode.UNSUPPORTED_SCHEME),
    ("data:text/html,hi", ErrorCode.UNSUPPORTED_SCHEME),
    ("mailto:abuse@example.net", ErrorCode.UNSUPPORTED_SCHEME),
    ("file:///etc/passwd", ErrorCode.UNSUPPORTED_SCHEME),
    ("gopher://example.net/", ErrorCode.UNSUPPORTED_SCHEME),
    ("foo:bar", ErrorCode.UNSUPPORTED_SCHEME),
    ("http://", ErrorCode.NO_HOST),
    ("http:", ErrorCode.NO_HOST),
    ("http://:80/", ErrorCode.NO_HOST),
    ("http://user@/", ErrorCode.NO_HOST),
    ("/only/a/path", ErrorCode.NO_HOST),
    ("http://example.net:99999/", ErrorCode.BAD_PORT),
    ("http://example.net:8o/", ErrorCode.BAD_PORT),
    ("http://[::1/", ErrorCode.BAD_IP_LITERAL),
    ("http://[1:2:3]/", ErrorCode.BAD_IP_LITERAL),
    ("http://[www.example.net]/", ErrorCode.BAD_IP_LITERAL),
    ("http://256.256.256.256/", ErrorCode.BAD_IP_LITERAL),
    ("http://1.2.3.4.5/", ErrorCode.BAD_IP_LITERAL),
    ("http://example.09/", ErrorCode.BAD_IP_LITERAL),
    ("http://0xfffffffff/", ErrorCode.BAD_IP_LITERAL),
    ("http://exa mple.net/", ErrorCode.BAD_HOST),
    ("http://a<b/", ErrorCode.BAD_HOST),
    ("http://a%25b/", ErrorCode.BAD_HOST),
    ("http://xn--a.ß/", ErrorCode.BAD_IDNA),
    ("http://\ufdd0zyx.com/", ErrorCode.BAD_IDNA),
    ("http://%ef%bc%85.com/", ErrorCode.BAD_IDNA),
]


@pytest.mark.parametrize(("text", "code"), ERRORS, ids=[repr(t[:30]) for t, _ in ERRORS])
def test_error_codes(text: str, code: ErrorCode) -> None:
    with pytest.raises(InvalidURLError) as caught:
        parse_reported_url(text)
    assert caught.value.code is code
    assert caught.value.message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("value", "kind"), [(None, "NoneType"), (123, "int"), (b"http://example.net/", "bytes")]
)
def test_non_text_is_a_type_error(value: object, kind: str) -> None:
    """Not an ``InvalidURLError``: passing bytes or None is the caller's bug, said clearly."""
    with pytest.raises(TypeError, match=f"^reported URL must be str, not {kind}$"):
        parse_reported_url(value)  # type: ignore[arg-type]


def test_lone_surrogates_become_replacement_characters() -> None:
    assert parse_reported_url("http://a.example/\ud800").normalized == "http://a.example/%EF%BF%BD"
    assert parse_reported_url("\udfffhttp://a.example/").host == "a.example"


HOSTS = [
    # input, host, host_unicode, is_ip, ip_version, special
    ("http://0x7f.1/", "127.0.0.1", "127.0.0.1", True, 4, "loopback"),
    ("http://3232235777/", "192.168.1.1", "192.168.1.1", True, 4, "private"),
    ("http://0300.0250.0.1/", "192.168.0.1", "192.168.0.1", True, 4, "private"),
    ("http://8.8.8.8/", "8.8.8.8", "8.8.8.8", True, 4, None),
    ("http://[::1]/", "::1", "::1", True, 6, "loopback"),
    # an IPv4-mapped literal keeps its form; its class is the embedded address's
    ("http://[0:0::FFFF:127.0.0.1]/", "::ffff:7f00:1", "::ffff:7f00:1", True, 6, "loopback"),
    ("2001:db8::1", "2001:db8::1", "2001:db8::1", True, 6, "documentation"),
    ("[2606:4700::1]:443/x", "2606:4700::1", "2606:4700::1", True, 6, None),
    ("http://BÜCHER.de/", "xn--bcher-kva.de", "bücher.de", False, None, None),
    ("http://xn--bcher-kva.de/", "xn--bcher-kva.de", "bücher.de", False, None, None),
    ("http://Ｇｏ.com/", "go.com", "go.com", False, None, None),
    ("http://%65xample.net/", "example.net", "example.net", False, None, None),
    ("http://example.net./", "example.net", "example.net", False, None, None),
    ("http://x.invalid/", "x.invalid", "x.invalid", False, None, "reserved_name"),
    ("abc.onion/x", "abc.onion", "abc.onion", False, None, "onion"),
    ("http://site.i2p/", "site.i2p", "site.i2p", False, None, "i2p"),
    ("http://localhost:8080/", "localhost", "localhost", False, None, "localhost"),
    ("http://printer.local/", "printer.local", "printer.local", False, None, "reserved_name"),
]


@pytest.mark.parametrize("case", HOSTS, ids=[c[0] for c in HOSTS])
def test_host_forms_and_classes(case: tuple[str, str, str, bool, int | None, str | None]) -> None:
    text, host, host_unicode, is_ip, version, special = case
    url = parse_reported_url(text)
    assert (url.host, url.host_unicode, url.is_ip, url.ip_version, url.special) == (
        host,
        host_unicode,
        is_ip,
        version,
        special,
    )


def test_registered_domains() -> None:
    url = parse_reported_url("hxxps://login.evil.github[.]io/x")
    assert url.registered_domain == "evil.github.io"
    assert url.public_suffix == "github.io"
    assert url.icann_registered_domain == "github.io"
    assert url.icann_public_suffix == "io"
    idn = parse_reported_url("https://www.bücher.co.uk/")
    assert idn.registered_domain == "xn--bcher-kva.co.uk"
    assert idn.public_suffix == "co.uk"
    ip = parse_reported_url("http://192.0.2.1/")
    assert (ip.registered_domain, ip.public_suffix, ip.icann_registered_domain) == (
        None,
        None,
        None,
    )


def test_contract_example() -> None:
    url = parse_reported_url("hxxps://www[.]example[.]co[.]uk/a b")
    assert url.normalized == "https://www.example.co.uk/a%20b"
    assert (url.scheme, url.host, url.host_unicode, url.port) == (
        "https",
        "www.example.co.uk",
        "www.example.co.uk",
        443,
    )
    assert (url.registered_domain, url.public_suffix, url.is_ip, url.defanged) == (
        "example.co.uk",
        "co.uk",
        False,
        True,
    )


def test_normalized_parses_back_to_itself() -> None:
    for text in ("http://x.example/a[\\]b", "hxxp://x[.]example/p?q=(.)#f", "x.example/a/../b/./c"):
        url = parse_reported_url(text)
        assert parse_reported_url(url.normalized).normalized == url.normalized


def test_cffi_path_matches_adas_own_api() -> None:
    """The C-API shortcut gives what ``ada_url.parse_url`` gives."""
    for text in (
        "https://user:pw@Example.NET:8443/a/../b?q=1#f",
        "http://[::ffff:1.2.3.4]/",
        "ws://0x7f.1:80/",
        "ftp://@h/",
        "https://bücher.de/ä",
    ):
        url = parse_reported_url(text)
        parts = ada_url.parse_url(text)
        assert url.normalized == parts["href"]
        assert url.host == parts["hostname"].strip("[]")
        assert url.port == int(
            parts["port"] or {"http": 80, "https": 443, "ftp": 21, "ws": 80}[url.scheme]
        )


def test_dns_limits() -> None:
    assert not exceeds_dns_limits("a" * 63 + ".example")
    assert exceeds_dns_limits("a" * 64 + ".example")
    assert not exceeds_dns_limits(".".join(["a" * 62] * 4) + ".")
    assert exceeds_dns_limits(".".join(["a" * 63] * 4))


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("Example.COM", "example.com"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("faß.de", "xn--fa-hia.de"),
        ("xn--fa-hia.de", "xn--fa-hia.de"),
        ("a†--", "xn--a---kp0a"),
    ],
)
def test_domain_to_ascii(domain: str, expected: str) -> None:
    assert domain_to_ascii(domain) == expected


@pytest.mark.parametrize(
    "domain",
    [
        "xn--a",
        "xn--",
        "xn--a.ß",
        "xn--ls8h=",
        "1.xn--6-945e.xn--glb1794k",
        "-.xn--3gb",
        "\ud800.com",
    ],
)
def test_domain_to_ascii_errors(domain: str) -> None:
    with pytest.raises(InvalidURLError) as caught:
        domain_to_ascii(domain)
    assert caught.value.code is ErrorCode.BAD_IDNA


def test_intact_urls_keep_whatwg_failures() -> None:
    """A space in the host of an otherwise intact URL stays an error, as in browsers."""
    with pytest.raises(InvalidURLError) as caught:
        parse_reported_url("http://example .\norg")
    assert caught.value.code is ErrorCode.BAD_HOST
    assert parse_reported_url("http:// example .org /x").host == "example.org"
    assert parse_reported_url("example .org").host == "example.org"


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("https://\u2477.com/x", "(4).com"),
        ("https://a\u249c.b/x", "a(a).b"),
        ("https://x.\u2477/", "x.(4)"),
    ],
)
def test_uts46_mappings_to_parentheses_stay_whatwg_hosts(text: str, host: str) -> None:
    url = parse_reported_url(text)
    assert url.host == host
    assert parse_reported_url(url.normalized).normalized == url.normalized


def test_space_before_the_path() -> None:
    assert parse_reported_url("hxxp://example.org /x").host == "example.org"
    assert parse_reported_url("example.org /x").host == "example.org"
    with pytest.raises(InvalidURLError):
        parse_reported_url("http://example.org /x")


def test_trailing_controls_do_not_hide_trailing_punctuation() -> None:
    for text in ("https://example.com/test.php.\x00\x00", "https://example.com/a.\x01"):
        url = parse_reported_url(text)
        assert parse_reported_url(url.normalized).normalized == url.normalized


# -- absolute names, full-width text, IPv4 inside IPv6, Unicode display -------------------


@pytest.mark.parametrize(
    "text", ["http://photo-galerie.fr./", "photo-galerie.fr./x", "HTTP://Photo-Galerie.FR.:80/"]
)
def test_absolute_name_is_the_name(text: str) -> None:
    """A trailing dot (as browsers accept) names the same host: looked up without it."""
    url = parse_reported_url(text)
    assert url.host == url.host_unicode == "photo-galerie.fr"
    assert url.normalized.startswith("http://photo-galerie.fr./")  # WHATWG keeps it
    assert (url.registered_domain, url.public_suffix) == ("photo-galerie.fr", "fr")
    assert url.special is None


WIDE = {
    # as pasted from Chinese, Japanese or Korean text
    "ｈｔｔｐ://ｅｖｉｌ．ｃｏｍ/": "http://evil.com/",
    "ｈｔｔｐｓ：／／ｅｖｉｌ．ｃｏｍ": "https://evil.com/",
    "ＨＴＴＰＳ：／／ｅｖｉｌ。ｃｏｍ／": "https://evil.com/",
    "ｈｔｔｐ：／／ｅｖｉｌ｡ｃｏｍ。": "http://evil.com/",  # the last full stop ends a sentence
    "ｈｔｔｐｓ：／／ｅｖｉｌ．ｃｏｍ：８４４３／ａ": "https://evil.com:8443/%EF%BD%81",
    "http：／／evil．com／x": "http://evil.com/x",
    "見て　ｈｔｔｐｓ：／／ｅｖｉｌ．ｃｏｍ／ です": "https://evil.com/",
    "「ｈｔｔｐ：／／ｅｖｉｌ．ｃｏｍ」": "http://evil.com/",
    "ｅｖｉｌ．ｃｏｍ／ｐ": "http://evil.com/%EF%BD%90",
}


@pytest.mark.parametrize(("text", "normalized"), WIDE.items(), ids=list(WIDE))
def test_full_width_scheme_and_separators_are_folded(text: str, normalized: str) -> None:
    """The scheme, separators and host are folded as an address bar would (NFKC's forms);
    the path keeps its characters."""
    url = parse_reported_url(text)
    assert (url.host, url.normalized) == ("evil.com", normalized)
    assert parse_reported_url(url.normalized).normalized == url.normalized


def test_full_width_host_after_an_ascii_scheme_stays_whatwg() -> None:
    """After an ASCII ``scheme://`` the URL Standard decides (UTS #46 maps the host)."""
    assert parse_reported_url("http://ｅｖｉｌ．ｃｏｍ/").host == "evil.com"
    with pytest.raises(InvalidURLError):
        parse_reported_url("http://ｅｖｉｌ．ｃｏｍ／ｐ")  # ``／`` maps into the host: refused


EMBEDDED = [
    # literal, host as serialised, embedded IPv4, embedding, special (of the IPv4 address)
    ("http://[::ffff:8.8.8.8]/", "::ffff:808:808", "8.8.8.8", "ipv4_mapped", None),
    ("[::FFFF:7f00:1]", "::ffff:7f00:1", "127.0.0.1", "ipv4_mapped", "loopback"),
    ("http://[64:ff9b::808:808]/", "64:ff9b::808:808", "8.8.8.8", "nat64", None),
    ("http://[64:ff9b::8.8.4.4]:8080/", "64:ff9b::808:404", "8.8.4.4", "nat64", None),
    ("http://[64:ff9b:1::c0a8:1]/", "64:ff9b:1::c0a8:1", "192.168.0.1", "nat64", "private"),
    ("http://[64:ff9b:1:2::5db8:d822]/", "64:ff9b:1:2::5db8:d822", "93.184.216.34", "nat64", None),
]


@pytest.mark.parametrize(
    ("text", "host", "ipv4", "embedding", "special"), EMBEDDED, ids=[e[0] for e in EMBEDDED]
)
def test_ipv4_inside_ipv6_is_named(
    text: str, host: str, ipv4: str, embedding: str, special: str | None
) -> None:
    """The literal stays as reported; the address to locate and how it is embedded are given."""
    url = parse_reported_url(text)
    assert (url.host, url.is_ip, url.ip_version) == (host, True, 6)
    assert (url.embedded_ipv4, url.ip_embedding, url.special) == (ipv4, embedding, special)


@pytest.mark.parametrize(
    "text", ["http://[2606:4700::1]/", "http://[64:ff9b:2::808:808]/", "http://8.8.8.8/", "a.com"]
)
def test_other_hosts_embed_nothing(text: str) -> None:
    url = parse_reported_url(text)
    assert (url.embedded_ipv4, url.ip_embedding) == (None, None)


DISPLAY = [
    ("http://xn--bcher-kva.de/", "bücher.de"),
    ("http://xn--b1amyej.xn--p1ai/", "вирус.рф"),
    ("http://xn--ls8h.la/", "xn--ls8h.la"),  # an emoji: not valid IDNA 2008, shown as is
    ("http://xn--ls8h.xn--bcher-kva.de/", "xn--ls8h.bücher.de"),
    ("http://xn--mnchen-3ya.xn--bcher-kva.de./", "münchen.bücher.de"),
]


@pytest.mark.parametrize(("text", "shown"), DISPLAY, ids=[d[0] for d in DISPLAY])
def test_host_unicode_where_idna_allows(text: str, shown: str) -> None:
    assert parse_reported_url(text).host_unicode == shown


def test_no_private_module_of_a_dependency_is_imported() -> None:
    """``from ada_url._ada_wrapper import ...`` and the like break on any release."""
    import ast
    from pathlib import Path

    import hostlocate

    private = []
    for path in Path(hostlocate.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] != "hostlocate" and any(p.startswith("_") for p in parts[1:]):
                    private.append(f"{path.name}: {name}")
    assert not private
