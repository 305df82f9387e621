"""What a phone shows: USSD screens (182 characters, paged menus) and SMS texts.

USSD text is always folded to GSM-7; SMS text is folded unless the flow keeps Unicode.
Lengths are counted on the folded text, as the phone will receive it.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Mapping

from gateway.engine import gsm

USSD_LIMIT = 182      # the whole body, `CON `/`END ` included
USSD_PREFIX = 4       # len("CON ")
MORE = "98"           # USSD menu paging, as most aggregators' menus do it
BACK = "0"


@dataclasses.dataclass(frozen=True)
class Prompt:
    """A step as text, before it is laid out for a channel."""

    header: str                 # info text above, then the question
    options: tuple[str, ...]    # labels, numbered from 1
    hint: str = ""              # how to answer, for SMS
    extra: tuple[str, ...] = () # lines such as "0. Skip" that keep their own number


def ussd_pages(prompt: Prompt, messages: Mapping[str, str], limit: int = USSD_LIMIT) -> list[str]:
    """Lay a prompt out as USSD screens that each fit `limit`; raise ValueError if impossible."""
    return list(_ussd_pages(prompt, messages["more"], messages["back"], limit))


@functools.lru_cache(maxsize=8192)
def _ussd_pages(prompt: Prompt, more_label: str, back_label: str,
                limit: int) -> tuple[str, ...]:
    # Cached: a flow has few distinct screens, and every USSD request lays one out.
    messages = {"more": more_label, "back": back_label}
    budget = limit - USSD_PREFIX
    header = gsm.fold_to_gsm7(prompt.header)
    lines = [gsm.fold_to_gsm7(f"{n}. {label}") for n, label in enumerate(prompt.options, 1)]
    lines += [gsm.fold_to_gsm7(line) for line in prompt.extra]
    whole = _join(header, *lines)
    if len(whole) <= budget:
        return [whole]
    more = gsm.fold_to_gsm7(f"{MORE}. {messages['more']}")
    back = gsm.fold_to_gsm7(f"{BACK}. {messages['back']}")
    pages: list[str] = []
    current = [header] if header else []
    remaining = list(lines)
    while remaining:
        footer = [back] if pages else []
        candidate = current + [remaining[0]]
        rest_fits = len(_join(*candidate, *remaining[1:], *footer)) <= budget
        if rest_fits:
            pages.append(_join(*candidate, *remaining[1:], *footer))
            break
        if len(_join(*candidate, *footer, more)) > budget:
            if pages == [] and header and len(current) == 1:
                raise ValueError(f"the question and its first option take "
                                 f"{len(_join(*candidate, more)) + USSD_PREFIX} characters with "
                                 f"paging; a USSD screen holds {limit}")
            if not current:
                raise ValueError(f"option {candidate[-1][:30]!r} does not fit a USSD screen "
                                 f"of {limit} characters even alone")
            pages.append(_join(*current, *footer, more))
            current = []
            continue
        current = candidate
        remaining.pop(0)
    return tuple(pages)


def ussd_final(text: str, limit: int = USSD_LIMIT) -> str:
    """Fold a last screen; raise ValueError when it does not fit."""
    folded = gsm.fold_to_gsm7(text)
    if len(folded) > limit - USSD_PREFIX:
        raise ValueError(f"the last screen has {len(folded) + USSD_PREFIX} characters "
                         f"with END, more than {limit}")
    return folded


def sms_text(prompt: Prompt, *, keep_unicode: bool = False) -> str:
    """Lay a prompt out as one SMS: question, numbered options, how to answer."""
    lines = [f"{n}. {label}" for n, label in enumerate(prompt.options, 1)]
    return gsm.prepare_sms(_join(prompt.header, *lines, *prompt.extra, prompt.hint),
                           keep_unicode=keep_unicode)


def clip(text: str, budget: int) -> str:
    """Cut text to `budget` characters, marking the cut; a last resort for runtime text."""
    return text if len(text) <= budget else text[: max(budget - 3, 0)].rstrip() + "..."


def _join(*parts: str) -> str:
    return "\n".join(part for part in parts if part)
