"""Alert explanations in words, zh-CN first and English."""

from __future__ import annotations

from shaobing_contracts.alert import Explanation
from shaobing_contracts.enrolment import EnrolmentFacts
from shaobing_contracts.id_number import mask_id_number

from .person import DeathFact

PROGRAM_ZH = {
    "DIBAO": "最低生活保障",
    "TEKUN": "特困人员救助供养",
    "GAOLING": "高龄津贴",
    "CANJI_SHENGHUO": "困难残疾人生活补贴",
    "CANJI_HULI": "重度残疾人护理补贴",
    "LINSHI": "临时救助",
    "SANGZANG": "丧葬补助",
}


def death_of_beneficiary(enrolment: EnrolmentFacts, death: DeathFact, months: int) -> Explanation:
    """Why a beneficiary's death stops the payment, and what was already overpaid."""
    who = mask_id_number(enrolment.beneficiary_id)
    program = PROGRAM_ZH[enrolment.program.value]
    zh = (
        f"享受{program}（{enrolment.enrolment_id}）的受益人 {who} 已于 {death.date_of_death} 死亡"
        f"（死亡证明 {death.certificate_no}，{death.recorded_at:%Y-%m-%d} 登记），应停发待遇。"
    )
    en = (
        f"The beneficiary {who} of {enrolment.program.value} enrolment "
        f"{enrolment.enrolment_id} died on {death.date_of_death} (certificate "
        f"{death.certificate_no}, recorded {death.recorded_at:%Y-%m-%d}); stop the payment."
    )
    if months:
        amount = enrolment.monthly_amount * months
        zh += f"死亡后已发放 {months} 个月共 {amount:.2f} 元，需追回。"
        en += f" {months} month(s) paid after death, {amount:.2f} yuan, to recover."
    return Explanation(zh_cn=zh, en=en)
