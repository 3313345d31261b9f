"""What the manager's alerts say: Chinese first, English beside; what happened, where (the
window and its clerk by name, the device by its role), and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from hallconfig import HallConfig
from protocol import messages as m

ROLE_NAMES = {m.Role.KIOSK: ("取号机", "kiosk"), m.Role.CALLER: ("呼叫器", "caller"),
              m.Role.DISPLAY: ("显示屏", "display"), m.Role.MANAGER: ("管理端", "manager"),
              m.Role.UPSTREAM: ("上级系统", "upstream link")}
PRINTER_TROUBLE = {
    m.PrinterHealth.PAPER_OUT: ("打印机缺纸", "out of paper", "请更换热敏纸卷", "load a new roll"),
    m.PrinterHealth.PAPER_LOW: ("打印纸即将用完", "paper running low", "请准备新纸卷",
                                "have a new roll ready"),
    m.PrinterHealth.OFFLINE: ("打印机未连接", "printer not connected",
                              "请检查打印机电源和 USB 线",
                              "check the printer's power and USB cable"),
    m.PrinterHealth.ERROR: ("打印机故障", "printer fault",
                            "请打开纸仓盖检查卡纸，必要时重启取号机",
                            "open the cover, clear any jam, restart the kiosk if it persists"),
}


def both(zh: str, en: str) -> str:
    return f"{zh} / {en}"


@dataclass(frozen=True)
class Wording:
    """The hall's names for windows, clerks and devices, and the alerts' sentences."""

    config: HallConfig | None = None
    _counters: dict[str, tuple[str, str]] = field(init=False, default_factory=dict)
    _clerks: dict[str, str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        if self.config is not None:
            self._counters.update({c.id: (c.name, c.name_en) for c in self.config.counters})
            self._clerks.update({c.staff_no: c.name for c in self.config.clerks})

    def window(self, counter: str, clerk: str | None = None) -> tuple[str, str]:
        """The window by name, with its clerk's name when one is signed in."""
        zh, en = self._counters.get(counter, (f"{counter}号窗口", f"Window {counter}"))
        if clerk:
            name = self._clerks.get(clerk, clerk)
            return f"{zh}（{name}）", f"{en} ({name})"
        return zh, en

    def device(self, device: str, role: m.Role | None = None) -> tuple[str, str]:
        if role is None and self.config is not None:
            found = self.config.device(device)
            role = m.Role(found.role) if found is not None else None
        zh, en = ROLE_NAMES.get(role, ("设备", "device")) if role else ("设备", "device")
        counter = self.config.device(device) if self.config is not None else None
        if counter is not None and counter.counter:
            wzh, wen = self.window(counter.counter)
            return f"{wzh}{zh}（{device}）", f"{wen} {en} ({device})"
        return f"{zh} {device}", f"{en} {device}"

    def service(self, service: str) -> tuple[str, str]:
        found = next((s for s in self.config.services if s.id == service), None) \
            if self.config is not None else None
        return (f"{service} {found.name}", f"{service} {found.name_en}") if found else (
            service, service)

    # ------------------------------------------------------------ the sentences
    def long_wait(self, service: str, minutes: float, target: float) -> str:
        zh, en = self.service(service)
        return both(f"{zh}：有居民已等候 {minutes:.0f} 分钟（目标 {target:g} 分钟）。"
                    f"建议开放潮汐窗口，或让综合窗口先办理此业务",
                    f"{en}: a resident has waited {minutes:.0f} min (target {target:g}). Open a "
                    f"tidal window, or have comprehensive windows take this service first")

    def paused(self, counter: str, clerk: str | None, minutes: float) -> str:
        zh, en = self.window(counter, clerk)
        return both(f"{zh}已暂停 {minutes:.0f} 分钟。请了解窗口情况，必要时安排他人接替",
                    f"{en} paused for {minutes:.0f} min. Check on the window; send someone to "
                    f"take over if needed")

    def offline(self, device: str, role: m.Role, since: datetime) -> str:
        zh, en = self.device(device, role)
        return both(f"{zh}自 {since:%H:%M:%S} 起离线。请检查其电源和网线",
                    f"{en} offline since {since:%H:%M:%S}. Check its power and network cable")

    def printer(self, device: str, health: m.DeviceHealth) -> str:
        zh, en = self.device(device, m.Role.KIOSK)
        what = PRINTER_TROUBLE.get(health.printer or m.PrinterHealth.ERROR,
                                   PRINTER_TROUBLE[m.PrinterHealth.ERROR])
        detail = f"（技术细节 detail: {health.detail}）" if health.detail else ""
        return both(f"{zh}：{what[0]}。{what[2]}", f"{en}: {what[1]}. {what[3].capitalize()}") \
            + detail

    def bad_rating(self, counter: str, clerk: str | None, number: str, rating: int) -> str:
        zh, en = self.window(counter, clerk)
        return both(f"{zh}：{number} 的评价为 {rating}/5（不满意）。请回访居民，并与窗口人员沟通",
                    f"{en}: {number} rated {rating}/5 (dissatisfied). Follow up with the "
                    f"resident and talk with the clerk")

    def help(self, device: str) -> str:
        zh, en = self.device(device, m.Role.KIOSK)
        return both(f"{zh}：有居民需要帮助。请导办人员前往", f"{en}: a resident asks for help. "
                    f"Send a guide to the kiosk")

    def no_clerk(self, counter: str, waiting: int) -> str:
        zh, en = self.window(counter)
        return both(f"{zh}已开放但无人签到，{waiting} 人在等候其业务。请安排人员签到，或关闭此窗口",
                    f"{en} is open without a clerk; {waiting} waiting for its services. Sign a "
                    f"clerk in, or close the window")

    def long_service(self, counter: str, clerk: str | None, number: str, minutes: float,
                     target: float) -> str:
        zh, en = self.window(counter, clerk)
        return both(f"{zh}办理 {number} 已 {minutes:.0f} 分钟，超过目标 {target:g} 分钟。请了解是否"
                    f"需要协助", f"{en}: {number} at the window for {minutes:.0f} min, target "
                    f"{target:g}. Ask whether the clerk needs help")

    def storage(self, reason: str) -> str:
        return both(f"系统日志无法写入（{reason}）：现在无法取号或叫号。请清理控制器磁盘空间",
                    f"The journal cannot be written ({reason}): no tickets can be issued or "
                    f"called. Free space on the controller's disk")

    def sign_in_locked(self, what: str, who: str) -> str:
        zh = "呼叫器" if what == "caller" else "工号"
        return both(f"{zh} {who}：15 分钟内签到失败 10 次，已锁定 15 分钟。请确认是否本人操作",
                    f"{what} {who}: ten wrong sign-ins in 15 min; locked for 15 min. Check "
                    f"who is trying")
