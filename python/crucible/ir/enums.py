"""Every enumerated value set of the IR, in one table.

Values are the original CrucibleIR atoms as snake_case strings. Each enum subclasses ``str``,
so a member compares equal to its value (``EnsembleStrategy.MAJORITY == "majority"``) and
encodes as that string. The sets are closed: the original's ``| atom()`` escape hatch is not
kept, so a typo fails to decode instead of travelling silently. Extensions go in the
``options``/``metadata`` maps, and adding a value is a minor schema-version change.

Sets the seeds list are used as given, with these additions (marked ``v0.3`` below):
``DatasetProvider.LOCAL``/``CUSTOM`` (the original's own tests use a ``custom`` provider),
``HedgingStrategy.EXPONENTIAL_BACKOFF`` (documented by the original, rejected only by an
oversight in its validator), and the enums of types that are new in v0.3.
"""

from __future__ import annotations

import enum

__all__ = [
    "ArtifactKind",
    "AuthType",
    "CacheBackend",
    "CachePolicy",
    "Compression",
    "CorrectionMethod",
    "DatasetFormat",
    "DatasetProvider",
    "DatasetSplit",
    "DeploymentState",
    "DeploymentStrategy",
    "Device",
    "DriftMethod",
    "DriftType",
    "EarlyStoppingMode",
    "EffectSizeType",
    "EnsembleStrategy",
    "Environment",
    "ExecutionMode",
    "ExperimentType",
    "FairnessMetric",
    "FeedbackStorage",
    "FeedbackType",
    "FineTuningMethod",
    "Framework",
    "GuardrailProfile",
    "HealthStatus",
    "HedgingStrategy",
    "LabelingStatus",
    "LossFunction",
    "LossReduction",
    "ModelArchitecture",
    "ModelProvider",
    "ModelStage",
    "ModelTask",
    "NetworkProtocol",
    "Optimizer",
    "OutputFormat",
    "OutputSink",
    "RateLimitStrategy",
    "RunStatus",
    "SchedulerType",
    "StatTest",
    "TargetType",
]


class _Values(str, enum.Enum):
    """A closed set of string values."""

    def __str__(self) -> str:
        return str(self.value)

    def __hash__(self) -> int:  # hash like the string it equals, so "a" in {Member.A}
        return hash(self.value)


# --- experiment ---------------------------------------------------------------------------


class ExperimentType(_Values):
    EVALUATION = "evaluation"
    TRAINING = "training"
    COMPARISON = "comparison"
    ABLATION = "ablation"


class DatasetProvider(_Values):
    CRUCIBLE_DATASETS = "crucible_datasets"
    HUGGINGFACE = "huggingface"
    LOCAL = "local"  # v0.3: files on disk (path in options)
    CUSTOM = "custom"  # v0.3: anything else (details in options)


class DatasetSplit(_Values):
    TRAIN = "train"
    TEST = "test"
    VALIDATION = "validation"


class DatasetFormat(_Values):
    PARQUET = "parquet"
    CSV = "csv"
    JSONL = "jsonl"
    ARROW = "arrow"


class CachePolicy(_Values):
    ALWAYS = "always"
    NEVER = "never"
    IF_LOCAL = "if_local"


class OutputFormat(_Values):
    MARKDOWN = "markdown"
    JSON = "json"
    HTML = "html"
    LATEX = "latex"
    CSV = "csv"


class OutputSink(_Values):
    FILE = "file"
    STDOUT = "stdout"
    S3 = "s3"
    POSTGRES = "postgres"


class Compression(_Values):
    NONE = "none"
    GZIP = "gzip"
    SNAPPY = "snappy"
    ZSTD = "zstd"  # v0.3


# --- reliability --------------------------------------------------------------------------


class EnsembleStrategy(_Values):
    NONE = "none"
    MAJORITY = "majority"
    WEIGHTED = "weighted"
    BEST_CONFIDENCE = "best_confidence"
    UNANIMOUS = "unanimous"


class ExecutionMode(_Values):
    PARALLEL = "parallel"
    SEQUENTIAL = "sequential"
    HEDGED = "hedged"
    CASCADE = "cascade"


class HedgingStrategy(_Values):
    OFF = "off"
    FIXED = "fixed"
    PERCENTILE = "percentile"
    ADAPTIVE = "adaptive"
    WORKLOAD_AWARE = "workload_aware"
    EXPONENTIAL_BACKOFF = "exponential_backoff"


class GuardrailProfile(_Values):
    DEFAULT = "default"
    STRICT = "strict"
    MODERATE = "moderate"
    PERMISSIVE = "permissive"


class StatTest(_Values):
    TTEST = "ttest"
    BOOTSTRAP = "bootstrap"
    ANOVA = "anova"
    MANNWHITNEY = "mannwhitney"
    WILCOXON = "wilcoxon"
    KRUSKAL = "kruskal"


class EffectSizeType(_Values):
    COHENS_D = "cohens_d"
    ETA_SQUARED = "eta_squared"
    OMEGA_SQUARED = "omega_squared"


class CorrectionMethod(_Values):
    BONFERRONI = "bonferroni"
    HOLM = "holm"
    FDR = "fdr"


class FairnessMetric(_Values):
    DEMOGRAPHIC_PARITY = "demographic_parity"
    EQUALIZED_ODDS = "equalized_odds"
    EQUAL_OPPORTUNITY = "equal_opportunity"
    PREDICTIVE_PARITY = "predictive_parity"


class RateLimitStrategy(_Values):  # v0.3
    TOKEN_BUCKET = "token_bucket"
    SLIDING_WINDOW = "sliding_window"
    FIXED_WINDOW = "fixed_window"


class CacheBackend(_Values):  # v0.3
    MEMORY = "memory"
    DISK = "disk"
    REDIS = "redis"


# --- model --------------------------------------------------------------------------------


class ModelProvider(_Values):
    LOCAL = "local"
    HUGGINGFACE = "huggingface"
    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    S3 = "s3"
    GCS = "gcs"


class Framework(_Values):
    NX = "nx"
    PYTORCH = "pytorch"
    TENSORFLOW = "tensorflow"
    ONNX = "onnx"
    SAFETENSORS = "safetensors"


class ModelArchitecture(_Values):
    TRANSFORMER = "transformer"
    LSTM = "lstm"
    CNN = "cnn"
    MLP = "mlp"


class ModelTask(_Values):
    TEXT_CLASSIFICATION = "text_classification"
    TEXT_GENERATION = "text_generation"
    EMBEDDING = "embedding"
    QA = "qa"
    SUMMARIZATION = "summarization"


class ModelStage(_Values):
    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"
    ARCHIVED = "archived"


class ArtifactKind(_Values):  # v0.3
    WEIGHTS = "weights"
    TOKENIZER = "tokenizer"
    CONFIG = "config"
    CHECKPOINT = "checkpoint"
    ADAPTER = "adapter"
    OTHER = "other"


class FineTuningMethod(_Values):  # v0.3
    FULL = "full"
    LORA = "lora"
    QLORA = "qlora"
    ADAPTER = "adapter"
    PREFIX = "prefix"
    DISTILLATION = "distillation"
    RLHF = "rlhf"
    DPO = "dpo"


# --- training -----------------------------------------------------------------------------


class Optimizer(_Values):
    ADAM = "adam"
    SGD = "sgd"
    ADAMW = "adamw"
    RMSPROP = "rmsprop"


class LossFunction(_Values):
    CROSS_ENTROPY = "cross_entropy"
    MSE = "mse"
    MAE = "mae"
    BCE = "bce"


class Device(_Values):
    CPU = "cpu"
    CUDA = "cuda"
    MPS = "mps"
    TPU = "tpu"


class RunStatus(_Values):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class SchedulerType(_Values):  # v0.3
    CONSTANT = "constant"
    STEP = "step"
    MULTISTEP = "multistep"
    EXPONENTIAL = "exponential"
    COSINE = "cosine"
    COSINE_WITH_RESTARTS = "cosine_with_restarts"
    LINEAR = "linear"
    POLYNOMIAL = "polynomial"
    ONE_CYCLE = "one_cycle"
    REDUCE_ON_PLATEAU = "reduce_on_plateau"


class LossReduction(_Values):  # v0.3
    MEAN = "mean"
    SUM = "sum"
    NONE = "none"


class EarlyStoppingMode(_Values):  # v0.3
    MIN = "min"
    MAX = "max"


# --- deployment ---------------------------------------------------------------------------


class Environment(_Values):
    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"


class DeploymentStrategy(_Values):
    ROLLING = "rolling"
    BLUE_GREEN = "blue_green"
    CANARY = "canary"
    RECREATE = "recreate"


class DeploymentState(_Values):
    PENDING = "pending"
    DEPLOYING = "deploying"
    ACTIVE = "active"
    DEGRADED = "degraded"
    FAILED = "failed"
    TERMINATED = "terminated"


class HealthStatus(_Values):
    UNKNOWN = "unknown"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    DEGRADED = "degraded"


class TargetType(_Values):  # v0.3 (seed 000)
    KUBERNETES = "kubernetes"
    DOCKER = "docker"
    LAMBDA = "lambda"
    FLY = "fly"
    LOCAL = "local"


class NetworkProtocol(_Values):  # v0.3: health checks and endpoints
    HTTP = "http"
    HTTPS = "https"
    GRPC = "grpc"
    TCP = "tcp"


class AuthType(_Values):  # v0.3
    NONE = "none"
    API_KEY = "api_key"
    BEARER = "bearer"
    OAUTH2 = "oauth2"
    MTLS = "mtls"


# --- feedback -----------------------------------------------------------------------------


class FeedbackStorage(_Values):
    POSTGRES = "postgres"
    S3 = "s3"
    BIGQUERY = "bigquery"
    LOCAL = "local"


class FeedbackType(_Values):
    THUMBS = "thumbs"
    RATING = "rating"
    CORRECTION = "correction"
    LABEL = "label"
    FLAG = "flag"


class DriftMethod(_Values):  # v0.3
    KS = "ks"
    PSI = "psi"
    CHI_SQUARED = "chi_squared"
    WASSERSTEIN = "wasserstein"
    KL_DIVERGENCE = "kl_divergence"
    JS_DIVERGENCE = "js_divergence"


class DriftType(_Values):  # v0.3
    DATA = "data"
    PREDICTION = "prediction"
    CONCEPT = "concept"


class LabelingStatus(_Values):  # v0.3
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
