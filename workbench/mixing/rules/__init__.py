"""Mixing rules, one module per decision: gain, eq, dynamics, pan, space, master.

Each rule is a pure function of measured features (from the analysis), the
stem's category and importance, and the settings. It returns a frozen
decision dataclass (``GainDecision``, ``EQDecision``, ``CompressorDecision``,
``PanDecision``, ``SendDecision``, ``ReverbDecision``, ``MasterDecision``)
carrying a structured :class:`~workbench.mixing.rules.reason.Reason`: what
was measured, which rule decided, and the keys of the sources it follows
(:mod:`workbench.sources`). The planner turns decisions into the plan's
dataclasses (``to_band()``, ``to_plan()``), where the reason is its rendered
sentence. Every constant cites its source beside it.
"""
