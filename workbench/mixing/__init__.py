"""Mixing: the plan (decisions as data), the planner that decides it, and the renderer that applies it."""
