"""Build data/psl/public_suffix_list.nodes, the prebuilt suffix table of the bundled list.

The parser matches registered domains against a flat table of suffix nodes
(``hostlocate.psl``). Built from the ``.dat`` at run time through tldextract's
parser it costs about 0.1 s (tldextract imports ``requests``); prebuilt, it
loads in about a millisecond. The table records the sha256 of the list it was
built from, and is used only beside that exact list.

Run after every refresh of ``public_suffix_list.dat`` (from the repository root)::

    python data/build_psl_nodes.py            # write the table and its MANIFEST.json entry
    python data/build_psl_nodes.py --check    # exit 1 if the table is not the list's
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import update_manifest

DATA = Path(__file__).resolve().parent
LIST = DATA / "psl" / "public_suffix_list.dat"
NODES = LIST.with_suffix(".nodes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(DATA.parent / "src"))
    from hostlocate.psl import compile_nodes

    text = compile_nodes(LIST)
    if args.check:
        same = NODES.is_file() and NODES.read_text(encoding="utf-8") == text
        print("up to date" if same else f"stale: {NODES.name}", file=sys.stderr)
        return 0 if same else 1
    NODES.write_text(text, encoding="utf-8")
    version = text.splitlines()[2].removeprefix("# version ")
    listed = update_manifest.load()["files"]["psl/public_suffix_list.dat"]
    update_manifest.record(
        "psl/public_suffix_list.nodes",
        name="psl_nodes",
        title=f"Public Suffix List suffix table (VERSION {version}), prebuilt",
        source="built from psl/public_suffix_list.dat by data/build_psl_nodes.py "
        "(rules read by tldextract's parser)",
        upstream=listed.get("upstream"),
        version=version,
        build_date=listed.get("build_date"),
        licence=listed.get("licence"),
        attribution=listed.get("attribution"),
        refresh="python data/build_psl_nodes.py (after refreshing public_suffix_list.dat)",
    )
    print(f"wrote {NODES.relative_to(DATA.parent)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
