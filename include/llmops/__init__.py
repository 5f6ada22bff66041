"""airflow-llmops: fine-tune, evaluate, register, serve and monitor a causal language model.

The package holds all pipeline logic as plain typed functions; the Airflow DAGs in ``dags/`` only wire them.
"""

from __future__ import annotations

import os

__version__ = "0.1.0"

# MLflow unpickles some model flavors and evaluation artifacts when it loads them, and whoever can write the
# registry could plant code that way. The platform's pyfunc is logged "from code" and needs no pickle. Set before
# any MLflow call (MLflow reads it at load time); an operator's explicit setting wins.
os.environ.setdefault("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
# MLflow 3 sends usage telemetry to its own server by default (and fetches its configuration first): nothing of the
# platform leaves the machine unasked, so it is off unless an operator turns it on.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
