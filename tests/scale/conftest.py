"""One SparkSession (local[2]) for the test session: starting one takes 15-55 s on this machine."""
from __future__ import annotations

import os
import sys
from typing import Any, Iterator

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    pyspark_sql = pytest.importorskip("pyspark.sql", reason="pyspark is in the test extra: pip install -e '.[test]'")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)          # executors import fhiradapter from here
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    session = (pyspark_sql.SparkSession.builder.master("local[2]").appName("fhiradapter-tests")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
               .config("spark.driver.memory", "1g").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
