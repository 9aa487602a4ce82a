"""An assessment's lifecycle: taken page by page, then completed once (its ratings written with it)."""

from __future__ import annotations

from kynect.assessments.models import Assessment
from kynect.core.lifecycle import NOW, Lifecycle, Transition

_S = Assessment.Status

ASSESSMENT = Lifecycle(
    model=Assessment,
    states=_S.values,
    initial=_S.IN_PROGRESS,
    transitions=[Transition("complete", (_S.IN_PROGRESS,), _S.COMPLETED, sets={"completed_at": NOW})],
)
