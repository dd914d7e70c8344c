"""`python -m shaobing_matcher` starts one faust worker."""

from .entrypoints import web  # noqa: F401  (registers the HTTP pages)
from .main import main

main()
