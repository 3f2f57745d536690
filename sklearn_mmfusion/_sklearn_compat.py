"""The private scikit-learn names the package uses, imported in one place.

scikit-learn does not promise these across releases; when one moves, only
this module changes (the ``scikit-learn`` range in ``setup.py`` says which
releases it is known to work with). Each is used the way scikit-learn's own
estimators use it:

- ``_fit_context``: parameter validation around ``fit`` (``_parameter_constraints``);
- ``Interval``, ``StrOptions``, ``HasMethods``: the constraint types;
- ``_check_sample_weight``: ``sample_weight`` validation;
- ``_check_feature_names``, ``_get_feature_names``, ``_check_feature_names_in``:
  the ``feature_names_in_`` contract of DataFrame input.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names,
    _check_feature_names_in,
    _check_sample_weight,
    _get_feature_names,
)

__all__ = [
    "HasMethods",
    "Interval",
    "StrOptions",
    "_check_feature_names",
    "_check_feature_names_in",
    "_check_sample_weight",
    "_fit_context",
    "_get_feature_names",
]
