"""Store metrics from Prometheus (the dashboards' PromQL) or straight from each store's ``/metrics``."""

from operator_tikv.metrics.base import MetricsResult, MetricsSource
from operator_tikv.metrics.direct import DirectMetrics
from operator_tikv.metrics.prometheus import PrometheusMetrics

__all__ = ["DirectMetrics", "MetricsResult", "MetricsSource", "PrometheusMetrics"]
