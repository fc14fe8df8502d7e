"""TiKV's offline diagnosis: the rulebook core's ``RuleDiagnoser`` runs, and what the model is told.

Modules by what they hold: ``causes`` (the root-cause classes), ``families``
(invariant name -> family of causes), ``evidence`` (readers over the context),
``availability`` and ``performance`` (the rules per cause), ``rules`` (the
dispatch and the fallback scan), ``guide`` (the figures compared and the notes
for the model), ``looks`` (what the rules ask the read-only tools).
"""

from __future__ import annotations

from operator_tikv.diagnosis.looks import LOOKS
from operator_tikv.diagnosis.rules import diagnose
from operator_tui.core.diagnosis.rules import RuleDiagnoser


def offline_diagnoser() -> RuleDiagnoser:
    return RuleDiagnoser(diagnose, LOOKS)
