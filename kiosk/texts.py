"""Every sentence the kiosk shows, in Chinese and English: one table, looked up by key."""

from __future__ import annotations

from datetime import date
from enum import StrEnum


class Language(StrEnum):
    """The kiosk's two languages; Chinese comes first."""

    ZH = "zh"
    EN = "en"

    @property
    def other(self) -> Language:
        return Language.EN if self is Language.ZH else Language.ZH


TEXTS: dict[str, tuple[str, str]] = {
    # idle
    "swipe": ("请刷身份证取号", "Please swipe your ID card"),
    "swipe_hint": ("请将身份证平放在下方读卡区", "Place your ID card flat on the reader below"),
    "waiting": ("等候 {n} 人", "{n} waiting"),
    "about_min": ("约 {m} 分钟", "about {m} min"),
    "no_wait": ("无需等候", "no wait"),
    "wait_unknown": ("等候时间待定", "wait not yet known"),
    "help": ("寻求帮助", "Ask staff for help"),
    "switch_language": ("English", "中文"),
    "notice_label": ("公告", "Notice"),
    "nearby": ("附近中心", "Nearby centres"),
    "nearby_closed": ("暂无窗口开放", "no window open"),
    "nearby_stale": ("暂无数据", "no data now"),
    # reading, confirming, printing
    "reading": ("正在读卡，请稍候…", "Reading your card, one moment…"),
    "confirming": ("正在取号，请稍候…", "Getting your ticket…"),
    "printing": ("正在打印，请稍候…", "Printing your ticket…"),
    "keep_card": ("请勿离开", "Please stay here"),
    # choosing
    "choose": ("请选择业务", "Please choose a service"),
    "green": ("绿色通道 · 优先办理", "Green channel · served first"),
    "appointment_offer": ("预约签到  {slot}", "Check in for your {slot} appointment"),
    "appointment_early": ("您预约了 {slot}，请于 {start} 后签到",
                          "Your appointment is at {slot}; check in from {start}"),
    "appointment_late": ("您预约的 {slot} 已过签到时间（{end}）",
                         "Check-in for your {slot} appointment closed at {end}"),
    "back": ("返回", "Back"),
    "done_button": ("完成", "Done"),
    # availability of a service
    "full": ("今日已满", "Today's tickets are all taken"),
    "not_yet": ("{time} 开始取号", "Tickets from {time}"),
    "ended": ("今日取号已结束", "No more tickets today"),
    "closed_today": ("今日不办理", "Closed today"),
    "paused": ("暂停取号", "Not taking tickets now"),
    "held": ("您已取号 {number}", "You already hold {number}"),
    # done
    "take_ticket": ("请取票", "Please take your ticket"),
    "ahead": ("前面还有 {n} 人，约 {m} 分钟", "{n} ahead of you, about {m} minutes"),
    "ahead_none": ("前面没有人，请留意叫号", "You are next — please listen for your number"),
    "ahead_unknown": ("前面还有 {n} 人，等候时间待定", "{n} ahead of you, wait not yet known"),
    "none_unknown": ("前面没有人，等候时间待定", "Nobody ahead of you, wait not yet known"),
    "green_ticket": ("绿色通道", "Green channel"),
    "appointment_ticket": ("预约", "Appointment"),
    "listen": ("请留意叫号及屏幕提示", "Please listen for your number and watch the screens"),
    # refusals and problems: (title, body) pairs share a stem
    "closed_not_yet.title": ("尚未开始取号", "Tickets are not available yet"),
    "closed_not_yet.body": ("{service}今日 {time} 开始取号", "Tickets for {service} from {time}"),
    "closed_ended.title": ("今日取号已结束", "No more tickets today"),
    "closed_ended.body": ("{service}今日最后取号时间为 {time}",
                          "The last ticket for {service} today was at {time}"),
    "closed_today.title": ("今日不办理", "Closed today"),
    "closed_today.body": ("本中心今日不办理业务，请改日再来", "The centre is closed today"),
    "closed_paused.title": ("暂停取号", "Not taking tickets now"),
    "closed_paused.body": ("{service}暂停取号，请咨询工作人员",
                           "{service} is not taking tickets right now; please ask staff"),
    "quota_exhausted.title": ("今日已满", "Today's tickets are all taken"),
    "quota_exhausted.body": ("{service}今日号已取完，请明天再来或咨询工作人员",
                             "All of today's tickets for {service} are taken; "
                             "please come back tomorrow or ask staff"),
    "already_holds.title": ("您已取过号", "You already have a ticket"),
    "already_holds.body": ("您已持有{service}的号 {number}，请留意叫号",
                           "You already hold {number} for {service}; "
                           "please listen for your number"),
    "already_holds_any.body": ("您已持有{service}的号，请留意叫号",
                               "You already hold a ticket for {service}; "
                               "please listen for your number"),
    "no_appointment.title": ("未找到预约", "No appointment found"),
    "no_appointment.body": ("今天没有您的{service}预约，可以现场取号",
                            "You have no appointment for {service} today; "
                            "you can take a walk-in ticket"),
    "outside_window.title": ("不在签到时间", "Outside your check-in time"),
    "outside_window.body": ("请在 {start} 至 {end} 之间签到",
                            "Please check in between {start} and {end}"),
    "outside_window_any.body": ("请在预约时段内签到",
                                "Please check in within your appointment window"),
    "no_answer.title": ("系统暂无响应", "The system is not answering"),
    "no_answer.body": ("本次未出票，请稍后再试或咨询工作人员",
                       "No ticket was issued; please try again shortly or ask staff"),
    "card_unreadable.title": ("读卡失败", "Could not read your card"),
    "card_unreadable.body": ("请将身份证平放在读卡区，重新刷卡",
                             "Lay your ID card flat on the reader and try again"),
    "card_invalid.title": ("无法识别此证件", "This card cannot be used"),
    "card_invalid.body": ("请咨询工作人员", "Please ask staff"),
    "cannot_print.title": ("暂时无法出票", "The ticket could not be printed"),
    "cannot_print.body": ("本次未出票，请咨询工作人员", "No ticket was issued; please ask staff"),
    "refused.title": ("暂时无法取号", "A ticket cannot be issued right now"),
    "refused.body": ("请咨询工作人员", "Please ask staff"),
    "choose_other": ("选择其他业务", "Choose another service"),
    # out of service
    "out_of_service": ("暂停服务", "Out of service"),
    "oos_body": ("请到咨询台，工作人员为您取号",
                 "Please go to the enquiry desk; staff will give you a ticket"),
    "oos_voided": ("您的号未能打印，已作废，工作人员会为您重新取号",
                   "Your ticket could not be printed and was cancelled; "
                   "staff will issue a new one"),
    "oos_alerted": ("已通知工作人员", "Staff have been alerted"),
    "fault.paper_out": ("打印机缺纸", "The printer is out of paper"),
    "fault.paper_low": ("打印纸即将用完", "The printer paper is running out"),
    "fault.offline": ("打印机离线", "The printer is offline"),
    "fault.error": ("打印机故障", "The printer has a fault"),
    "fault.reader": ("读卡器故障", "The card reader has a fault"),
    "fault.link": ("系统连接中断，正在恢复", "Connection to the system lost; reconnecting"),
    "fault.starting": ("正在连接系统…", "Connecting to the system…"),
    # staff help
    "help.title": ("需要帮助？", "Need help?"),
    "help.desk": ("请到咨询台，工作人员会为您取号、办理",
                  "Please go to the enquiry desk: staff will get you a ticket and help you"),
    "help.no_card": ("没有身份证、没有智能手机，也可以办理",
                     "No ID card or smartphone? You can still be served"),
    "help.green": ("{age} 岁以上老人、残疾人可走绿色通道",
                   "Residents aged {age}+ and disabled residents are served first"),
}

_WEEKDAYS_ZH = "一二三四五六日"


def say(key: str, language: Language, **values: object) -> str:
    """The text for ``key`` in ``language``, with ``values`` filled in."""
    zh, en = TEXTS[key]
    return (zh if language is Language.ZH else en).format(**values)


def long_date(day: date, language: Language) -> str:
    """A date as the idle screen shows it: 2026年3月16日 星期一 / Monday 16 March 2026."""
    if language is Language.ZH:
        return f"{day.year}年{day.month}月{day.day}日 星期{_WEEKDAYS_ZH[day.weekday()]}"
    return f"{day:%A} {day.day} {day:%B %Y}"


def minutes(value: float) -> int:
    """A wait rounded to whole minutes, as residents read it."""
    return max(0, round(value))
