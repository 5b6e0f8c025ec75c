"""The YAML reader's two parsers: libyaml (fast) and PyYAML's pure-Python one (the reference).

:func:`simulation.config.reading.parse_yaml` reads with libyaml when it can and falls back to the
pure-Python :class:`LimitedLoader` on any problem, so that every accepted document gives the same
data and every refused one the same error, word for word, as the pure-Python reader alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.config.reading import LimitedLoader, _parse_with_libyaml, parse_yaml

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted((ROOT / "scenarios").rglob("*.yaml"))

pytestmark = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml")


def outcome(parse, text: str) -> tuple[str, object]:
    """("data", the data) or ("error", its type and message)."""
    try:
        return "data", parse(text)
    except Exception as err:  # noqa: BLE001  (the outcome is compared, whatever it is)
        return "error", (type(err).__name__, str(err))


def reference(text: str) -> object:
    return LimitedLoader(text).load()


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: str(p.relative_to(ROOT)))
def test_libyaml_reads_every_bundled_file_as_the_reference_does(path):
    text = path.read_text(encoding="utf-8")
    assert _parse_with_libyaml(text) == (True, reference(text))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a: 1\nb: [1, 2, {c: 3}]\n",
        "base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  x: 3\n",  # a merge key
        "a: 1e6\nb: 0x1F\nc: 1_000\nd: .inf\ne: ~\nf: yes\ng: 2020-01-01\n",  # YAML 1.1 resolution
        "a: 'quoted'\nb: \"esc\\u00e9\"\nc: |\n  block\n  text\nd: >\n  folded\n  line\n",
        "a: 1\na: 2\n",  # a duplicate key
        "a: &a [1, *a]\n",  # an alias inside itself
        "x: " + "[" * 40 + "1" + "]" * 40 + "\n",  # past MAX_DEPTH
        "x: " + "[" * 2000 + "]" * 2000 + "\n",  # past libyaml's own limit
        "a: [1,\n",  # malformed
        "a: !!python/object:os.system x\n",  # an unsafe tag
        "a: 1\n---\nb: 2\n",  # two documents
        "a: \x07\n",  # a character YAML does not allow
        "a: b: c\n",
        "\ufeffa: 1\n",  # a byte-order mark
        "a: 1\n\tb: 2\n",  # a tab
        "%YAML 1.2\n---\na: 1\n",
        "a: " + "9" * 5000 + "\n",  # an integer too long for int()
    ],
)
def test_every_outcome_is_the_reference_readers(text):
    assert outcome(parse_yaml, text) == outcome(reference, text)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(documents, st.sampled_from([None, True, False]))
def test_any_dumped_document_reads_the_same_with_either_parser(data, flow):
    text = yaml.safe_dump({"data": data}, default_flow_style=flow, allow_unicode=True)
    assert outcome(parse_yaml, text) == outcome(reference, text)
