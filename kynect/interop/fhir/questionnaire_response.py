"""An assessment's answers as a FHIR R4B QuestionnaireResponse: the instrument's canonical Questionnaire
(`<base>/Questionnaire/<code>|<version>`), one item per answered question, each answer a Coding (LOINC
where the instrument has it, else the instrument's own answer codes)."""

from __future__ import annotations

from datetime import datetime

from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.questionnaireresponse import (
    QuestionnaireResponse,
    QuestionnaireResponseItem,
    QuestionnaireResponseItemAnswer,
)
from fhir.resources.R4B.reference import Reference

from kynect.assessments.definitions import Definition
from kynect.interop.fhir.datatypes import KYNECT_SYSTEM
from kynect.interop.fhir.observation import LOINC
from kynect.residents.part2 import domain_is_part2


def questionnaire_url(definition: Definition) -> str:
    return f"{KYNECT_SYSTEM}/Questionnaire/{definition.code}|{definition.version}"


def questionnaire_response_resource(
    *,
    id: str,
    definition: Definition,
    answers: dict[str, list[str]],
    subject: Reference,
    authored: datetime,
    part2: bool,
) -> QuestionnaireResponse:
    """`part2`: whether the reader may see 42 CFR Part 2 answers (the Substance Abuse questions); without
    it they are left out."""
    answer_system = f"{KYNECT_SYSTEM}/CodeSystem/{definition.code}-answers"
    items = []
    for question in definition.questions:
        chosen = [answer for code in answers.get(question.code, []) if (answer := question.answer(code))]
        if not chosen or (domain_is_part2(question.domain) and not part2):
            continue
        items.append(
            QuestionnaireResponseItem(
                linkId=question.code,
                text=question.text.en,
                answer=[
                    QuestionnaireResponseItemAnswer(
                        valueCoding=Coding(system=LOINC, code=answer.loinc, display=answer.text.en)
                        if answer.loinc
                        else Coding(system=answer_system, code=answer.code, display=answer.text.en)
                    )
                    for answer in chosen
                ],
            )
        )
    return QuestionnaireResponse(
        id=id,
        questionnaire=questionnaire_url(definition),
        status="completed",
        subject=subject,
        authored=authored,
        item=items or None,
    )
