"""WhatsApp template language codes (Meta's "Supported Languages" page, May 2026).

Codes are case-sensitive with an underscore. Meta adds regional variants over time, so a
well-formed ``xx_YY`` whose base language is listed is accepted too; anything else is refused
with a suggestion (``en-US`` → ``en_US``).
"""

from __future__ import annotations

import re

LANGUAGE_CODES = frozenset(
    """
    af sq ar ar_EG ar_AE ar_LB ar_MA ar_QA az be_BY bn bn_IN bg ca zh_CN zh_HK zh_TW hr cs da
    prs_AF nl nl_BE en en_GB en_US en_AE en_AU en_CA en_GH en_IE en_IN en_JM en_MY en_NZ en_QA
    en_SG en_UG en_ZA et fil fi fr fr_BE fr_CA fr_CH fr_CI fr_MA ka de de_AT de_CH el gu ha he
    hi hu id ga it ja kn kk rw_RW ko ky_KG lo lv lt mk ms ml mr nb fa pl pt_BR pt_PT pa ro ru
    sr sk sl es es_AR es_ES es_MX sw sv ta te th tr uk ur uz vi zu
    """.split()
)

_BASES = frozenset(code.split("_")[0] for code in LANGUAGE_CODES)
_REGIONAL = re.compile(r"^([a-z]{2,3})_[A-Z]{2}$")


def is_language(code: str) -> bool:
    if code in LANGUAGE_CODES:
        return True
    match = _REGIONAL.match(code)
    return bool(match and match.group(1) in _BASES)


def suggest_language(code: str) -> str | None:
    """The listed code a miscased or hyphenated ``code`` most likely meant."""
    parts = re.split(r"[-_]", code.strip())
    if not parts or not parts[0]:
        return None
    candidate = parts[0].lower() + ("_" + parts[1].upper() if len(parts) > 1 else "")
    if candidate != code and is_language(candidate):
        return candidate
    return None
