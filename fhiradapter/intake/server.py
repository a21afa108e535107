"""Start the gateway under uvicorn. Worker processes build their app from the environment (the CLI
puts the config file and its overrides there), so `--workers N` and `uvicorn --factory` work alike:

    FHIRADAPTER_INTAKE_CONFIG=intake.toml uvicorn --factory fhiradapter.intake.server:app_from_env
"""
from __future__ import annotations

import logging
import os
import sys
from typing import Any

from starlette.applications import Starlette

from .app import create_app
from .config import CONFIG_ENV, IntakeConfig, load_config


def setup_audit_log(config: IntakeConfig) -> None:
    logger = logging.getLogger("fhiradapter.intake.audit")
    logger.propagate = False
    if logger.handlers or not config.server.audit_log:
        return
    target = config.server.audit_log
    handler: logging.Handler = (logging.StreamHandler(sys.stdout) if target == "-"
                                else logging.FileHandler(target, encoding="utf-8"))
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def app_from_env() -> Starlette:
    config = load_config(os.environ.get(CONFIG_ENV) or None)
    setup_audit_log(config)
    return create_app(config)


def serve(config: IntakeConfig, config_file: str | None) -> None:
    """Run uvicorn in this process (workers > 1: uvicorn's supervisor starts the worker processes)."""
    import uvicorn

    if config_file:
        os.environ[CONFIG_ENV] = config_file
    # one process: build the app here, so a bad setting is a clear error before anything listens
    target: Any = "fhiradapter.intake.server:app_from_env"
    if config.server.workers <= 1:
        setup_audit_log(config)
        target = create_app(config)
    uvicorn.run(target, factory=isinstance(target, str), host=config.server.host,
                port=config.server.port, workers=config.server.workers, log_level="warning",
                proxy_headers=True, forwarded_allow_ips="127.0.0.1", server_header=False,
                timeout_keep_alive=30, limit_concurrency=2000)
