"""The concrete step types. Each docstring's YAML is a complete, valid step (tests load it)."""

from __future__ import annotations

from typing import Mapping

from gateway.engine import inputs
from gateway.engine.steps import (
    LANGUAGE_NAMES, YES_NO_LABELS, Answer, Option, Reader, Step, _read_options, register,
)
from gateway.engine.yamlsource import LineDict


@register
class ChoiceStep(Step):
    """A numbered menu; options may carry a score.

    ```yaml
    - id: visit
      type: choice
      text:
        fr: Pour quelle visite êtes-vous venue ?
        bm: I nana baara jumɛn kama?
      options:
        - {value: prenatal, fr: Consultation prénatale, bm: Kɔnɔmaya lajɛ}
        - {value: delivery, fr: Accouchement, bm: Jiginni}
        - {value: postnatal, fr: Après l'accouchement, bm: Jiginni kɔfɛ lajɛ}
    ```
    """

    type_name = "choice"
    extra_keys = frozenset({"options"})

    def __init__(self, data: LineDict, reader: Reader) -> None:
        super().__init__(data, reader)
        self._options = _read_options(data, reader, self.id, scored=False)

    def options(self) -> tuple[Option, ...]:
        return self._options


@register
class RatingStep(ChoiceStep):
    """A rating scale: every option has a score from 0 to 100; the highest is 'top box'.

    ```yaml
    - id: respect
      type: rating
      dimension: respect
      text:
        fr: Le personnel vous a-t-il traitée avec respect ?
        bm: Baarakɛlaw ye i bonya wa?
      options:
        - {value: always, score: 100, fr: Toujours, bm: Tuma bɛɛ}
        - {value: mostly, score: 67, fr: La plupart du temps, bm: Tuma caman}
        - {value: sometimes, score: 33, fr: Parfois, bm: Tuma dɔw}
        - {value: never, score: 0, fr: Jamais, bm: Abada}
    ```
    """

    type_name = "rating"

    def __init__(self, data: LineDict, reader: Reader) -> None:
        Step.__init__(self, data, reader)
        self._options = _read_options(data, reader, self.id, scored=True)
        if not self.dimension:
            reader.error(f"rating step '{self.id}' needs a 'dimension'", data.line, self.id)


@register
class YesNoStep(Step):
    """A yes/no question (1 yes, 2 no); `score` gives each answer's score when it is scored.

    ```yaml
    - id: extra_payment
      type: yes_no
      dimension: fees
      score: {yes: 0, no: 100}
      text:
        fr: Vous a-t-on demandé de payer en dehors des frais officiels ?
        bm: Yala u ye wari wɛrɛ ɲini i fɛ sara sariyalen kɔ wa?
    ```
    """

    type_name = "yes_no"
    extra_keys = frozenset({"score"})

    def __init__(self, data: LineDict, reader: Reader) -> None:
        super().__init__(data, reader)
        scores = data.get("score")
        yes_score = no_score = None
        if scores is not None:
            if not isinstance(scores, dict) or set(scores) != {"yes", "no"}:
                reader.error("'score' must be {yes: <0-100>, no: <0-100>}",
                             data.line_of("score"), self.id)
            else:
                yes_score = reader.number(scores, "yes", None, data.line_of("score"), self.id,
                                          low=0, high=100)
                no_score = reader.number(scores, "no", None, data.line_of("score"), self.id,
                                         low=0, high=100)
        labels = {lang: YES_NO_LABELS.get(lang, ("Yes", "No")) for lang in reader.languages}
        self._options = (
            Option("yes", {lang: pair[0] for lang, pair in labels.items()}, yes_score, self.line),
            Option("no", {lang: pair[1] for lang, pair in labels.items()}, no_score, self.line),
        )

    def options(self) -> tuple[Option, ...]:
        return self._options

    def accept(self, raw: str, language: str) -> Answer | None:
        said = inputs.parse_yes_no(raw)
        if said is None:
            return super().accept(raw, language)
        option = self._options[0 if said else 1]
        top = self.top_score()
        return Answer(option.value, option.score,
                      None if option.score is None else option.score == top)

    def hint(self, language: str, messages: Mapping[str, str]) -> str:
        return messages["reply_yes_no"]


@register
class ConsentStep(YesNoStep):
    """Ask for consent; a 'no' ends the session politely with the `declined` text.

    ```yaml
    - id: consent
      type: consent
      text:
        fr: Vos réponses sont anonymes et gratuites. Acceptez-vous de répondre ?
        bm: I ka jaabiw tɔgɔ tɛ fɔ, u ye fu ye. I sɔnna ka jaabi wa?
      declined:
        fr: Merci. Bonne journée.
        bm: I ni ce. Tile hɛrɛ.
    ```
    """

    type_name = "consent"
    extra_keys = frozenset({"declined"})

    def __init__(self, data: LineDict, reader: Reader) -> None:
        super().__init__(data, reader)
        self.declined = reader.texts(data.get("declined"), data.line_of("declined"),
                                     "declined", self.id)
        self.declined_line = data.line_of("declined")
        if self.dimension:
            reader.error("a consent step is not scored: remove 'dimension'",
                         data.line_of("dimension"), self.id)


@register
class NumberStep(Step):
    """A whole number between `min` and `max`.

    ```yaml
    - id: anc_visits
      type: number
      min: 0
      max: 12
      text:
        fr: Combien de consultations prénatales avez-vous eues ?
        bm: I ye kɔnɔmaya lajɛ siɲɛ joli kɛ?
    ```
    """

    type_name = "number"
    extra_keys = frozenset({"min", "max"})

    def __init__(self, data: LineDict, reader: Reader) -> None:
        super().__init__(data, reader)
        self.minimum = int(reader.number(data, "min", 0, data.line, self.id) or 0)
        self.maximum = int(reader.number(data, "max", 99, data.line, self.id) or 0)
        if self.minimum > self.maximum:
            reader.error(f"'min' ({self.minimum}) is above 'max' ({self.maximum})",
                         data.line_of("min"), self.id)
        if self.dimension:
            reader.error("a number step is not scored: remove 'dimension'",
                         data.line_of("dimension"), self.id)

    def accept(self, raw: str, language: str) -> Answer | None:
        number = inputs.parse_integer(raw)
        if number is None or not self.minimum <= number <= self.maximum:
            return None
        return Answer(str(number))

    def hint(self, language: str, messages: Mapping[str, str]) -> str:
        return messages["reply_number"] % {"low": self.minimum, "high": self.maximum}


@register
class TextStep(Step):
    """Free text, cut at `max_length`; `optional: true` lets her skip it with 0.

    ```yaml
    - id: comment
      type: text
      optional: true
      max_length: 160
      text:
        fr: Un commentaire pour le centre ?
        bm: I bɛ fɛ ka mun fɔ dɔgɔtɔrɔso ye?
    ```
    """

    type_name = "text"
    extra_keys = frozenset({"optional", "max_length"})
    SKIP = "0"

    def __init__(self, data: LineDict, reader: Reader) -> None:
        super().__init__(data, reader)
        self.optional = data.get("optional", False) is True
        self.max_length = int(reader.number(data, "max_length", 160, data.line, self.id,
                                            low=1, high=500) or 160)
        if self.dimension:
            reader.error("a text step is not scored: remove 'dimension'",
                         data.line_of("dimension"), self.id)

    def accept(self, raw: str, language: str) -> Answer | None:
        text = " ".join(raw.split())
        if not text:
            return None
        if self.optional and text == self.SKIP:
            return Answer("")
        return Answer(text[: self.max_length])

    def hint(self, language: str, messages: Mapping[str, str]) -> str:
        return messages["reply_text_optional" if self.optional else "reply_text"]


@register
class InfoStep(Step):
    """A message with no question, shown above the next step's question.

    ```yaml
    - id: why_anc
      type: info
      text:
        fr: Les 4 consultations prénatales protègent la mère et l'enfant.
        bm: Kɔnɔmaya lajɛ 4 bɛ ba ni den lakana.
    ```
    """

    type_name = "info"
    answerable = False

    def hint(self, language: str, messages: Mapping[str, str]) -> str:
        return ""


@register
class EndStep(Step):
    """The last screen: thanks; the session is completed.

    ```yaml
    - id: thanks
      type: end
      text:
        fr: Merci ! Vos réponses aideront le centre à s'améliorer.
        bm: I ni ce! I ka jaabiw bɛna dɛmɛ don dɔgɔtɔrɔso ma.
    ```
    """

    type_name = "end"
    answerable = False
    final = True

    def hint(self, language: str, messages: Mapping[str, str]) -> str:
        return ""


@register
class LanguageStep(Step):
    """Choose the language; skipped when the contact's language is known, unless `always_ask`.

    ```yaml
    - id: language
      type: language
      text:
        fr: Choisissez votre langue
        bm: I ka kan sugandi
    ```
    """

    type_name = "language"
    extra_keys = frozenset({"always_ask"})

    def __init__(self, data: LineDict, reader: Reader) -> None:
        super().__init__(data, reader)
        self.always_ask = data.get("always_ask", False) is True
        self._options = tuple(
            Option(lang, {other: LANGUAGE_NAMES.get(lang, lang) for other in reader.languages},
                   None, self.line)
            for lang in reader.languages)

    def options(self) -> tuple[Option, ...]:
        return self._options

    def accept(self, raw: str, language: str) -> Answer | None:
        word = inputs.plain(raw)
        for option in self._options:
            if word == option.value or word == inputs.plain(option.label[option.value]):
                return Answer(option.value)
        return super().accept(raw, language)


@register
class CenterCodeStep(Step):
    """Ask for the centre's code; skipped when the centre is already known.

    ```yaml
    - id: center
      type: center_code
      text:
        fr: Entrez le code de votre centre de santé
        bm: I ka dɔgɔtɔrɔso nimɔrɔ sɛbɛn
    ```
    """

    type_name = "center_code"

    def accept(self, raw: str, language: str) -> Answer | None:
        code = inputs.plain(raw).upper().replace(" ", "")
        if not code or len(code) > 12 or not code.isalnum():
            return None
        return Answer(code)

    def hint(self, language: str, messages: Mapping[str, str]) -> str:
        return ""
