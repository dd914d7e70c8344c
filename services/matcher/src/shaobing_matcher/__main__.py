"""`python -m shaobing_matcher` starts one faust worker."""

import sys

from .entrypoints import web  # noqa: F401  (registers the HTTP pages)
from .entrypoints.app import app, settings

sys.argv = [
    sys.argv[0],
    "worker",
    "--loglevel",
    settings.log_level.lower(),
    "--web-port",
    str(settings.port),
]
app.main()
