"""What a reader gets from a card, and fake but valid cards for tests and the simulated hall."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hardware.idcard.number import IdNumber, age_on, check_character, mask_number

LONG_TERM = date.max
"""`valid_until` of a card printed 长期 (valid for life)."""

NATIONS = (
    "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜",
    "满", "侗", "瑶", "白", "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳",
    "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土",
    "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米",
    "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔",
    "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
)  # fmt: skip
"""Nationality names in GB 3304 order: code 01 is 汉, 02 蒙古, and so on."""

SAMPLE_AREA_CODE = "310104"
SERIALS_PER_AREA = 499
LAST_AREA_CODE = 999999
MAX_SERIAL = (LAST_AREA_CODE - int(SAMPLE_AREA_CODE) + 1) * SERIALS_PER_AREA - 1


def nation_name(code: str) -> str:
    """The name for a 2-digit GB 3304 code; unknown codes are kept as they are."""
    if code.isdigit() and 1 <= int(code) <= len(NATIONS):
        return NATIONS[int(code) - 1]
    return code


def nation_code(name: str) -> str:
    """The 2-digit GB 3304 code for a name; a 2-digit string passes through."""
    if name in NATIONS:
        return f"{NATIONS.index(name) + 1:02d}"
    if len(name) == 2 and name.isdigit():
        return name
    raise ValueError(f"unknown nation {name!r}: give a GB 3304 name or 2-digit code")


@dataclass(frozen=True, repr=False)
class CardData:
    """One read of a resident ID card; its repr never shows the name or the number.

    `valid_until` is LONG_TERM for 长期 cards. Readers that only send the number
    fill `id_number`, `birth_date` and `sex`, leave the texts empty and the validity None.
    """

    name: str
    sex: str
    nation: str
    birth_date: date
    address: str
    id_number: str
    authority: str
    valid_from: date | None
    valid_until: date | None

    @classmethod
    def from_number(cls, number: IdNumber) -> CardData:
        """A card known only by its number, as simple line readers deliver it."""
        return cls(
            name="",
            sex=number.sex,
            nation="",
            birth_date=number.birth_date,
            address="",
            id_number=number.number,
            authority="",
            valid_from=None,
            valid_until=None,
        )

    def age_on(self, day: date) -> int:
        """The holder's age in completed years on `day`."""
        return age_on(self.birth_date, day)

    def __repr__(self) -> str:
        return f"CardData(id_number='{mask_number(self.id_number)}', name=<hidden>)"

    __str__ = __repr__


def sample_number(birth_date: date, sex: str = "M", serial: int = 0) -> str:
    """A valid (check character included) number in a fake area, 310104 for the first.

    `serial` (0 or more) tells apart fake residents born on the same day with the same sex:
    an area code holds 499 of them (sequence numbers 001-998, odd for men), so serials 0-498
    fall in 310104, 499-997 in 310105, and so on up to area 999999.
    """
    if sex not in ("M", "F"):
        raise ValueError(f"sex must be 'M' or 'F', got {sex!r}")
    area, index = divmod(serial, SERIALS_PER_AREA)
    if serial < 0 or int(SAMPLE_AREA_CODE) + area > LAST_AREA_CODE:
        raise ValueError(f"serial must be between 0 and {MAX_SERIAL}, got {serial}")
    sequence = 2 * index + (1 if sex == "M" else 2)
    first17 = f"{int(SAMPLE_AREA_CODE) + area:06d}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def sample_card(
    birth_date: date = date(1980, 5, 17),
    sex: str = "M",
    serial: int = 0,
    name: str = "测试居民",
) -> CardData:
    """A fake card with a valid number, for tests and the simulated hall."""
    valid_from = max(date(2020, 3, 1), birth_date)
    return CardData(
        name=name,
        sex=sex,
        nation="汉",
        birth_date=birth_date,
        address="上海市徐汇区示例路100弄1号",
        id_number=sample_number(birth_date, sex, serial),
        authority="上海市公安局徐汇分局",
        valid_from=valid_from,
        valid_until=_validity_end(birth_date, valid_from),
    )


def _validity_end(birth_date: date, valid_from: date) -> date:
    """Cards run 5, 10 or 20 years by age at issue, and for life (长期) from 46."""
    age = age_on(birth_date, valid_from)
    years = 5 if age < 16 else 10 if age < 26 else 20 if age < 46 else 0
    if years == 0:
        return LONG_TERM
    if (valid_from.month, valid_from.day) == (2, 29):
        return date(valid_from.year + years, 2, 28)
    return valid_from.replace(year=valid_from.year + years)
