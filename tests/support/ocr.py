"""What tesseract reads on a screenshot or a rendered page (Chinese and English)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path


def ocr(picture: Path, line: bool = False) -> str:
    """The text read, without any white space; ``line``: the picture is one line of text."""
    read = subprocess.run(["tesseract", str(picture), "-", "-l", "chi_sim+eng", "--psm",
                           "7" if line else "3"],
                          capture_output=True, text=True, check=True, timeout=300).stdout
    return re.sub(r"\s+", "", read)
