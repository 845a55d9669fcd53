"""Errors painters raises."""


class PlanError(ValueError):
    """A layer plan that cannot apply: the message says what was given and what is allowed."""


class UnsupportedModelError(ValueError):
    """A model whose layer list painters cannot find."""
