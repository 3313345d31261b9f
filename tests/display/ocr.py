"""Reading rendered screens back: tesseract OCR, and where a colour's ink lies in a picture."""

from __future__ import annotations

import io
import re
import string
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageChops, ImageOps

Box = tuple[int, int, int, int]  # left, top, right, bottom in picture pixels
Colour = tuple[tuple[int, int], tuple[int, int], tuple[int, int]]  # (low, high) of R, G, B
TICKET_CHARS = string.ascii_uppercase + string.digits
AMBER: Colour = ((201, 255), (141, 255), (0, 129))  # the called number, not its soft edges
LIGHT: Colour = ((151, 255), (151, 255), (151, 255))  # white type on the dark panels


def read(image: Image.Image, box: Box, scale: float = 1.0, *, number: bool = False) -> str:
    """OCR one region: grey, dark text on white, thresholded; no spaces in the answer.

    ``number``: read one line of a ticket number: letters A-Z and digits only.
    """
    how = (["-l", "eng", "--psm", "7", "-c", f"tessedit_char_whitelist={TICKET_CHARS}"]
           if number else ["-l", "chi_sim+eng", "--psm", "6"])
    return re.sub(r"\s+", "", tesseract(binarised(image.crop(box), scale), how))


def read_tickets(regions: list[tuple[Image.Image, Box]], colour: Colour,
                 height: int = 72) -> list[str]:
    """OCR the ticket number drawn in ``colour`` in each region, all in one tesseract process.

    Only that colour's ink is read (not the words around it), scaled to ``height``; letters
    A-Z and digits only. Compare with ``reads_as``: tesseract takes some letters of this font
    standing before digits for digits.
    """
    pages = []
    for image, box in regions:
        mask = ink(image, box, colour)
        found = mask.getbbox()
        assert found is not None, f"no ink in {box}"
        region = ImageOps.invert(mask.crop(found))
        width = max(1, round(region.width * height / region.height))
        page = Image.new("L", (width + height, 2 * height), 255)
        page.paste(region.resize((width, height), Image.Resampling.LANCZOS),
                   (height // 2, height // 2))
        pages.append(page)
    how = ["--psm", "7", "-c", f"tessedit_char_whitelist={TICKET_CHARS}"]
    return tesseract_pages(pages, how)


# a ticket's letter that tesseract (eng) reads as a digit in this font, before other digits
LOOK_ALIKE = {"O": "0", "S": "5", "Z": "2"}


def reads_as(number: str, read: str) -> bool:
    """Whether OCR's ``read`` is ``number``: digits exactly, the letter or its look-alike."""
    letter, digits = number[0], number[1:]
    return read in (number, LOOK_ALIKE.get(letter, letter) + digits)


def tesseract_pages(pages: list[Image.Image], how: list[str]) -> list[str]:
    """tesseract's answer for each picture, all read by one tesseract process."""
    with tempfile.TemporaryDirectory() as folder:
        names = []
        for i, page in enumerate(pages):
            names.append(str(Path(folder) / f"{i:03d}.png"))
            page.save(names[-1])
        listing = Path(folder) / "pages.txt"
        listing.write_text("\n".join(names) + "\n")
        done = subprocess.run(["tesseract", str(listing), "stdout", "-l", "eng", *how],
                              capture_output=True, timeout=120, check=True)
    answers = [re.sub(r"\s+", "", text) for text in done.stdout.decode().split("\f")]
    return answers[: len(pages)]


def binarised(region: Image.Image, scale: float) -> Image.Image:
    """Grey, scaled, dark text on white, cut at Otsu's threshold."""
    region = region.convert("L")
    if scale != 1.0:
        region = region.resize((int(region.width * scale), int(region.height * scale)),
                               Image.Resampling.LANCZOS)
    histogram = region.histogram()
    mean = sum(level * count for level, count in enumerate(histogram)) / sum(histogram)
    if mean < 128:
        region, histogram = ImageOps.invert(region), histogram[::-1]
    cut = otsu(histogram)
    return region.point(lambda level: 255 if level > cut else 0)


def tesseract(image: Image.Image, how: list[str]) -> str:
    """tesseract's answer for ``image`` with options ``how``."""
    png = io.BytesIO()
    image.save(png, "PNG")
    done = subprocess.run(["tesseract", "stdin", "stdout", *how], input=png.getvalue(),
                          capture_output=True, timeout=60, check=True)
    return done.stdout.decode()


def otsu(histogram: list[int]) -> int:
    """The grey level that best splits text from background (Otsu's method)."""
    total = sum(histogram)
    grand = sum(level * count for level, count in enumerate(histogram))
    below = weight = 0.0
    best, cut = -1.0, 128
    for level, count in enumerate(histogram):
        weight += count
        if weight == 0 or weight == total:
            continue
        below += level * count
        mean_low, mean_high = below / weight, (grand - below) / (total - weight)
        spread = weight * (total - weight) * (mean_low - mean_high) ** 2
        if spread > best:
            best, cut = spread, level
    return cut


def ink(image: Image.Image, box: Box, colour: Colour) -> Image.Image:
    """A mask (255 = ink) of the pixels of ``colour`` inside ``box``."""
    channels = image.crop(box).convert("RGB").split()
    masks = [channel.point(lambda level, low=low, high=high: 255 if low <= level <= high else 0)
             for channel, (low, high) in zip(channels, colour, strict=True)]
    return ImageChops.multiply(ImageChops.multiply(masks[0], masks[1]), masks[2])


def bands(mask: Image.Image) -> list[tuple[int, int]]:
    """The runs of rows holding ink in ``mask``: one run is one line of type."""
    width, height = mask.size
    runs: list[tuple[int, int]] = []
    start = None
    for y in range(height):
        inked = mask.crop((0, y, width, y + 1)).getbbox() is not None
        if inked and start is None:
            start = y
        elif not inked and start is not None:
            runs.append((start, y))
            start = None
    if start is not None:
        runs.append((start, height))
    return runs
