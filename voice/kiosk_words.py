"""The kiosk's spoken prompts: one clip per key, with the Mandarin the default pack says.

A hall's recordings (Shanghainese, say) replace these clip for clip by key. Numbers are
joined from the display's ``digit_*`` and ``num_shi`` clips plus ``num_bai`` and ``num_liang``.
"""

from __future__ import annotations

KIOSK_TEXTS: dict[str, str] = {
    # numbers beyond the display's digits
    "num_bai": "百",
    "num_liang": "两",
    # the steps
    "kiosk_swipe": "请刷身份证取号",
    "kiosk_choose": "请选择业务",
    "kiosk_green": "您可走绿色通道，优先办理",
    "kiosk_appointment": "您今天有预约，请点绿色按钮签到",
    "kiosk_printing": "正在打印，请稍候",
    "kiosk_take_ticket": "请取走您的号票",
    "kiosk_your_number": "您的号码是",
    "kiosk_ahead": "您前面还有",
    "kiosk_people": "人",
    "kiosk_wait_about": "预计等候约",
    "kiosk_minutes": "分钟",
    "kiosk_wait_under_minute": "预计等候不到一分钟",
    "kiosk_nobody_ahead": "您前面没有人",
    "kiosk_wait_unknown": "等候时间待定",
    "kiosk_listen": "请留意叫号",
    "kiosk_help": "请到咨询台，工作人员会为您取号、办理",
    # notices (a refusal or a problem), one per kind
    "kiosk_card_unreadable": "读卡失败，请将身份证平放在读卡区，重新刷卡",
    "kiosk_card_invalid": "无法识别此证件，请咨询工作人员",
    "kiosk_closed_not_yet": "该业务尚未开始取号",
    "kiosk_closed_ended": "该业务今日取号已结束",
    "kiosk_closed_today": "本中心今日不办理业务",
    "kiosk_closed_paused": "该业务暂停取号，请咨询工作人员",
    "kiosk_quota_exhausted": "该业务今日已满，请咨询工作人员",
    "kiosk_already_holds": "您已取过该业务的号，请留意叫号",
    "kiosk_no_appointment": "未找到您的预约，可以现场取号",
    "kiosk_outside_window": "现在不在您的预约签到时间",
    "kiosk_no_answer": "系统暂无响应，本次未出票，请稍后再试",
    "kiosk_cannot_print": "暂时无法出票，请咨询工作人员",
    "kiosk_refused": "暂时无法取号，请咨询工作人员",
    # out of service
    "kiosk_fault_paper_out": "打印机缺纸",
    "kiosk_fault_paper_low": "打印纸即将用完",
    "kiosk_fault_offline": "打印机离线",
    "kiosk_fault_error": "打印机故障",
    "kiosk_fault_reader": "读卡器故障",
    "kiosk_fault_link": "系统连接中断",
    "kiosk_ticket_voided": "您的号未能打印，已作废",
    "kiosk_out_of_service": "暂停服务，请到咨询台，工作人员为您取号",
}

KIOSK_KEYS: tuple[str, ...] = tuple(KIOSK_TEXTS)
