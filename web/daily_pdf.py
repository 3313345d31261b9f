"""The daily report drawn as an A4 PDF with reportlab (pure Python: it installs as is on a
Pi), in a CJK TrueType font from Debian (fonts-wqy-zenhei, which every hall Pi has):
reportlab embeds TrueType outlines only, not the CFF of Noto CJK's OpenType files."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.doctemplate import BaseDocTemplate

if TYPE_CHECKING:
    from web.daily_report import Col, Daily, Section

FONT = "LobbyCJK"
FONT_FILES = (  # TrueType collections (index 0) or fonts, the first found is used
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
)
MARGIN = 14 * mm
WIDTH = A4[0] - 2 * MARGIN
GREY = colors.HexColor("#4f5b6b")
LINE = colors.HexColor("#b8c0cc")
SHADE = colors.HexColor("#e8ecf2")
MARK = colors.HexColor("#fff1dc")
NARROW = 15 * mm  # a figure's column
TEXT_COLUMNS = {"service": 11 * mm, "hour": 13 * mm, "id": 18 * mm}


class FontMissing(RuntimeError):
    """No CJK TrueType font to draw the PDF in."""


@cache
def font() -> str:
    """The CJK font's name in reportlab, registered at the first call."""
    for path in FONT_FILES:
        if path.exists():
            pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=0))
            return FONT
    raise FontMissing("no CJK TrueType font for the daily report's PDF (looked for "
                      f"{', '.join(map(str, FONT_FILES))}): apt-get install fonts-wqy-zenhei")


def _style(size: float, colour: Any = colors.black, leading: float | None = None,
           wrap: str | None = "CJK") -> ParagraphStyle:
    return ParagraphStyle(f"s{size}", fontName=font(), fontSize=size,
                          leading=leading or size * 1.3, textColor=colour, wordWrap=wrap)


def _widths(columns: tuple[Col, ...]) -> list[float]:
    fixed = [TEXT_COLUMNS.get(c.key, 0 if c.key == "name" else NARROW) for c in columns]
    flexible = WIDTH - sum(fixed)
    return [w or flexible for w in fixed]


def _table(section: Section, marked: frozenset[str] = frozenset()) -> list[Flowable]:
    head_style, cell_style = _style(7.5, leading=9, wrap=None), _style(8)
    head = [Paragraph(f'{c.zh}<br/><font size="6" color="#4f5b6b">{c.en}</font>', head_style)
            for c in section.columns]
    body = [[Paragraph(section.text(row, c), cell_style) if c.key == "name"
             else section.text(row, c) for c in section.columns] for row in section.rows]
    if not body:
        body = [["无数据 No data", *[""] * (len(section.columns) - 1)]]
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), font(), 8), ("GRID", (0, 0), (-1, -1), 0.4, LINE),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]
    style += [("ALIGN", (n, 1), (n, -1), "RIGHT") for n, c in enumerate(section.columns)
              if c.key not in {"service", "name", "id", "hour"}]
    style += [("BACKGROUND", (0, n), (-1, n), MARK) for n, row in enumerate(section.rows, 1)
              if row.get("hour") in marked]
    table = Table([head, *body], colWidths=_widths(section.columns), repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(style))
    title = Paragraph(f'{section.zh} <font size="8" color="#4f5b6b">{section.en}</font>',
                      _style(10.5))
    return [title, Spacer(0, 1.5 * mm), table, Spacer(0, 4 * mm)]


def _top(daily: Daily) -> list[Flowable]:
    zh_day, en_day = daily.weekday
    state = ("营业已结束 Day closed" if daily.closed else
             f"营业中，截至 {daily.made_at:%H:%M} In progress, as of {daily.made_at:%H:%M}")
    kpi = _style(8.5, leading=13)
    totals = Table([[Paragraph(f'<font size="15">{value}</font><br/>{c.zh} '
                               f'<font size="7" color="#4f5b6b">{c.en}</font>', kpi)
                     for c, value in daily.totals]],
                   colWidths=[WIDTH / len(daily.totals)] * len(daily.totals))
    totals.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.6, LINE),
                                ("INNERGRID", (0, 0), (-1, -1), 0.4, LINE)]))
    busiest = "　".join(f"{r['hour']} 取号 {r['issued']}" for r in daily.busiest) or "无数据"
    return [Paragraph(f'{daily.hall} <font size="9" color="#4f5b6b">{daily.hall_en}</font>',
                      _style(10, GREY)),
            Paragraph(f'服务日报 <font size="11">Daily report</font>　{daily.day.isoformat()} '
                      f'{zh_day} <font size="11">{en_day}</font>', _style(16, leading=21)),
            Paragraph(state, _style(8.5, GREY)), Spacer(0, 3 * mm), totals, Spacer(0, 2.5 * mm),
            Paragraph(f'最繁忙时段 <font size="7.5" color="#4f5b6b">Busiest hours</font>　'
                      f'{busiest}', _style(9)), Spacer(0, 3 * mm)]


def pdf_bytes(daily: Daily) -> bytes:
    """The daily report as a PDF (A4 portrait); FontMissing without a CJK font."""
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=12 * mm, bottomMargin=14 * mm,
                            title=f"{daily.hall} 服务日报 {daily.day.isoformat()}",
                            author=daily.hall, subject="Daily report")
    marked = frozenset(r["hour"] for r in daily.busiest)
    story = _top(daily)
    for section in daily.sections:
        story += _table(section, marked if section.key == "hours" else frozenset())

    def footer(canvas: Canvas, template: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(font(), 7.5)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, 8 * mm, f"{daily.hall} · {daily.day.isoformat()} · 生成于 "
                                          f"Made {daily.made_at:%Y-%m-%d %H:%M}")
        canvas.drawRightString(A4[0] - MARGIN, 8 * mm, f"第 {template.page} 页 Page "
                                                       f"{template.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
