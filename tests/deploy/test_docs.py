"""The operator's guide and the artwork README: every relative link and picture leads to a file
that exists, every in-page anchor to a heading or anchor, and the guide links the MQTT topic
reference."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "docs" / "operators-guide.md", ROOT / "images" / "README.md",
        ROOT / "images" / "art" / "README.md"]
LINK_RE = re.compile(r"\]\(([^)\s]+)\)")


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors, plus explicit <a id="..."> ones."""
    found = set(re.findall(r'<a id="([^"]+)">', markdown))
    for heading in re.findall(r"^#+ (.+)$", markdown, re.MULTILINE):
        text = re.sub(r"<[^>]+>", "", heading).strip().lower()
        found.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_lead_somewhere(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    links = LINK_RE.findall(text)
    assert links
    for link in links:
        if link.startswith(("http://", "https://")):
            continue
        target, _, anchor = link.partition("#")
        path = (doc.parent / target).resolve() if target else doc
        assert path.exists(), f"{doc.name}: {link} does not exist"
        if anchor and path.suffix == ".md":
            assert anchor in anchors(path.read_text(encoding="utf-8")), f"{doc.name}: {link}"


def test_guide_links_the_topic_reference_and_shows_the_wiring() -> None:
    text = DOCS[0].read_text(encoding="utf-8")
    assert "](../protocol/README.md)" in text
    assert "](wiring.png)" in text
