"""Mixing rules, one module per decision: gain, eq, dynamics, pan, space, master.

Each rule is a pure function of measured features (from the analysis), the
stem's category and importance, and the settings; it returns plan data with a
one-line reason. Every constant cites its source beside it.
"""
