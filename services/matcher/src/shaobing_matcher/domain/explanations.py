"""What every alert (and a withdrawn notification) says in words beyond its rule's own text, zh-CN
first and English."""

from __future__ import annotations

from decimal import Decimal

from shaobing_contracts.alert import Explanation

PROGRAM_ZH = {
    "DIBAO": "最低生活保障",
    "TEKUN": "特困人员救助供养",
    "GAOLING": "高龄津贴",
    "CANJI_SHENGHUO": "困难残疾人生活补贴",
    "CANJI_HULI": "重度残疾人护理补贴",
    "LINSHI": "临时救助",
    "SANGZANG": "丧葬补助",
}


def plain(zh: str, en: str) -> Explanation:
    return Explanation(zh_cn=zh, en=en)


def with_overpayment(zh: str, en: str, months: int, amount: Decimal) -> Explanation:
    """The rule's explanation, plus what was paid after the fact and is to be recovered."""
    if months:
        zh += f"事实发生后已发放 {months} 个月共 {amount:.2f} 元，需追回。"
        en += f" {months} month(s) paid after it, {amount:.2f} yuan, to recover."
    return plain(zh, en)


def withdrawn(title: Explanation) -> Explanation:
    return Explanation(
        zh_cn=f"“{title.zh_cn}”所依据的事实已被撤销或不再成立，预警撤回。",
        en=f"The facts behind “{title.en}” were retracted or no longer hold: alert withdrawn.",
    )


def no_longer_due(title: Explanation) -> Explanation:
    """Why a notification is withdrawn: a change of the person's facts ended it."""
    return Explanation(
        zh_cn=f"“{title.zh_cn}”的条件因情况变化已不再满足（如已享受、已死亡或已迁出），无需再联系。",
        en=f"“{title.en}” no longer applies since the person's facts changed (already enrolled, "
        "died or moved away, for example): no need to contact them.",
    )
