"""Complete, valid example instances of every IR document type.

Every optional field is set somewhere (so the golden files pin every key of every struct),
and every example passes validation. Tests derive failing cases by changing one field.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from crucible.ir import deployment, feedback, reliability, training
from crucible.ir.dataset import DatasetRef
from crucible.ir.experiment import BackendRef, Experiment, OutputSpec, StageDef
from crucible.ir.model import (
    ModelArtifact,
    ModelLineage,
    ModelMetadata,
    ModelRef,
    ModelSignature,
    ModelTag,
    ModelVersion,
    TensorSpec,
)

PARIS = timezone(timedelta(hours=2))
NEW_YORK = timezone(timedelta(hours=-5))
KOLKATA = timezone(timedelta(hours=5, minutes=30))
T0 = datetime(2025, 12, 26, 12, 0, 0, tzinfo=timezone.utc)
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def dataset_ref() -> DatasetRef:
    return DatasetRef(
        name="mmlu",
        provider="huggingface",
        split="test",
        options={"revision": "main"},
        version="1.0.0",
        format="parquet",
        schema={"question": "string", "answer": "string", "gender": "string"},
        validation_rules=[{"column": "answer", "not_null": True}],
        preprocessing=["strip_whitespace", "lowercase"],
        cache_policy="if_local",
    )


def model_tag() -> ModelTag:
    return ModelTag(key="team", value="nlp")


def model_metadata() -> ModelMetadata:
    return ModelMetadata(
        description="GPT-2 base, 124M parameters",
        authors=["OpenAI"],
        license="mit",
        homepage="https://huggingface.co/gpt2",
        paper_url="https://example.org/language_models_are_unsupervised.pdf",
        languages=["en"],
        datasets=["webtext"],
        intended_use="research",
        limitations="English only",
        options={"card_version": 2},
    )


def model_ref() -> ModelRef:
    return ModelRef(
        id="gpt2_base",
        name="GPT-2 base",
        version="1.0.0",
        provider="huggingface",
        framework="pytorch",
        architecture="transformer",
        task="text_generation",
        artifact_uri="hf://gpt2",
        metadata={"parameters": 124_000_000},
        options={"token_env": "HUGGINGFACE_TOKEN"},
        created_at=datetime(2025, 12, 1, 9, 30, tzinfo=PARIS),
        card=model_metadata(),
        tags=[model_tag(), ModelTag(key="frozen")],
    )


def model_artifact() -> ModelArtifact:
    return ModelArtifact(
        uri="s3://models/gpt2/1.1.0/model.safetensors",
        kind="weights",
        format="safetensors",
        size_bytes=548_105_171,
        sha256=SHA,
        created_at=T0,
        options={"storage_class": "standard"},
    )


def model_signature() -> ModelSignature:
    return ModelSignature(
        inputs=[TensorSpec(name="input_ids", dtype="int64", shape=[-1, 1024], optional=False)],
        outputs=[TensorSpec(name="logits", dtype="float32", shape=[-1, 1024, 50257])],
        params={"max_new_tokens": 128},
    )


def model_lineage() -> ModelLineage:
    return ModelLineage(
        parent_model_id="gpt2_base",
        parent_version="1.0.0",
        base_model="gpt2",
        training_run_id="run_001",
        training_dataset=DatasetRef(name="wikitext", provider="huggingface"),
        fine_tuning_method="lora",
        options={"rank": 8},
    )


def model_version() -> ModelVersion:
    return ModelVersion(
        id="gpt2_base_1_1_0",
        model_id="gpt2_base",
        version="1.1.0",
        stage="staging",
        training_run_id="run_001",
        metrics={"accuracy": 0.91, "perplexity": 18.4},
        artifact_uri="s3://models/gpt2/1.1.0",
        parent_version="1.0.0",
        description="LoRA fine-tune on wikitext",
        created_at=datetime(2025, 12, 26, 8, 0, tzinfo=NEW_YORK),
        created_by="mlops",
        options={"approved": True},
        model_ref=model_ref(),
        artifacts=[model_artifact()],
        signature=model_signature(),
        lineage=model_lineage(),
        tags=[model_tag()],
    )


def training_config() -> training.Config:
    return training.Config(
        id="train_gpt2",
        model_ref=model_ref(),
        dataset_ref=DatasetRef(name="wikitext", provider="huggingface", split="train"),
        epochs=3,
        batch_size=16,
        learning_rate=0.0005,
        optimizer="adamw",
        loss_function="cross_entropy",
        metrics=["loss", "accuracy"],
        validation_split=0.1,
        device="cuda",
        seed=42,
        mixed_precision=True,
        gradient_clipping=1.0,
        early_stopping=training.EarlyStoppingConfig(
            monitor="val_loss",
            mode="min",
            patience=2,
            min_delta=0.001,
            baseline=3.5,
            restore_best_weights=True,
            options={"verbose": True},
        ),
        checkpoint_every=1,
        options={"experiment_tag": "baseline"},
        gradient_accumulation=4,
        validation_dataset_ref=None,
        optimizer_config=training.OptimizerConfig(
            weight_decay=0.01,
            momentum=None,
            nesterov=None,
            betas=[0.9, 0.999],
            eps=1e-8,
            amsgrad=False,
            options={"fused": True},
        ),
        scheduler=training.SchedulerConfig(
            type="cosine",
            warmup_steps=100,
            total_steps=3000,
            step_size=None,
            milestones=None,
            gamma=None,
            min_lr=1e-6,
            patience=None,
            factor=None,
            options={"num_cycles": 0.5},
        ),
        data_loader=training.DataLoaderConfig(
            batch_size=16,
            shuffle=True,
            num_workers=4,
            drop_last=True,
            pin_memory=True,
            prefetch_factor=2,
            seed=7,
            options={"persistent_workers": True},
        ),
        loss=training.LossConfig(
            reduction="mean",
            label_smoothing=0.1,
            class_weights=[1.0, 2.0],
            pos_weight=None,
            ignore_index=-100,
            options={},
        ),
        regularization=training.RegularizationConfig(
            dropout=0.1,
            attention_dropout=0.1,
            weight_decay=0.01,
            l1=0.0,
            l2=0.0001,
            options={"stochastic_depth": 0.0},
        ),
    )


def checkpoint_ref() -> training.CheckpointRef:
    return training.CheckpointRef(
        uri="s3://checkpoints/run_001/epoch_2.pt",
        step=2000,
        epoch=2,
        metrics={"val_loss": 2.1},
        is_best=True,
        sha256=SHA,
        created_at=datetime(2025, 12, 26, 13, 0, tzinfo=timezone.utc),
        options={"size_bytes": 1_000_000},
    )


def training_run() -> training.Run:
    return training.Run(
        id="run_001",
        config=training_config(),
        status="completed",
        current_epoch=3,
        metrics_history=[{"loss": 0.8, "epoch": 1.0}, {"loss": 0.6, "epoch": 2.0}],
        best_metrics={"loss": 0.6},
        checkpoint_uris=["s3://checkpoints/run_001/epoch_2.pt"],
        final_model_version="gpt2_base_1_1_0",
        started_at=T0,
        completed_at=datetime(2025, 12, 26, 16, 30, tzinfo=KOLKATA) + timedelta(hours=2),
        error_message=None,
        options={"priority": "high"},
        checkpoints=[checkpoint_ref()],
        current_step=3000,
    )


def rate_limit() -> reliability.RateLimit:
    return reliability.RateLimit(
        strategy="token_bucket",
        requests_per_second=5.0,
        requests_per_minute=300,
        tokens_per_minute=90_000,
        max_concurrent=8,
        burst=10,
        options={"shared": False},
    )


def retry_config() -> reliability.RetryConfig:
    return reliability.RetryConfig(
        max_retries=3,
        initial_delay_ms=200,
        max_delay_ms=5_000,
        backoff_multiplier=2.0,
        jitter=True,
        retry_on=["timeout", "429", "503"],
        options={"respect_retry_after": True},
    )


def backend_ref() -> BackendRef:
    return BackendRef(
        id="openai_gpt4",
        profile="fast",
        options={"temperature": 0.2},
        model_version="gpt-4-0613",
        endpoint_url="https://api.openai.com/v1",
        deployment_id="deploy_prod",
        fallback=BackendRef(id="anthropic_claude", profile="default"),
        rate_limit=rate_limit(),
        retry_config=retry_config(),
    )


def drift_detection() -> feedback.DriftDetectionConfig:
    return feedback.DriftDetectionConfig(
        enabled=True,
        method="ks",
        drift_type="data",
        threshold=0.05,
        features=["prompt_length", "topic"],
        reference_window_size=10_000,
        window_size=1_000,
        check_interval_seconds=3600,
        options={"correction": "bonferroni"},
    )


def retraining_trigger() -> feedback.RetrainingTrigger:
    return feedback.RetrainingTrigger(
        enabled=True,
        min_feedback_count=500,
        drift_threshold=0.2,
        metric="accuracy",
        performance_threshold=0.85,
        schedule="0 3 * * 1",
        cooldown_hours=48.0,
        training_config_id="train_gpt2",
        options={"notify": ["mlops"]},
    )


def feedback_config() -> feedback.Config:
    return feedback.Config(
        enabled=True,
        sampling_rate=0.1,
        feedback_types=["thumbs", "correction", "rating"],
        storage="s3",
        retention_days=90,
        anonymize_pii=True,
        drift_detection=drift_detection(),
        retraining_trigger=retraining_trigger(),
        options={"bucket": "crucible-feedback", "region": "us-east-1"},
    )


def reliability_config() -> reliability.Config:
    return reliability.Config(
        ensemble=reliability.Ensemble(
            strategy="weighted",
            execution_mode="parallel",
            models=["gpt4", "claude", "gemini"],
            weights={"gpt4": 0.5, "claude": 0.3, "gemini": 0.2},
            min_agreement=0.6,
            timeout_ms=30_000,
            options={"tie_break": "first"},
        ),
        hedging=reliability.Hedging(
            strategy="percentile",
            delay_ms=50,
            percentile=0.95,
            max_hedges=2,
            budget_percent=15.0,
            options={"window": 1000},
        ),
        guardrails=reliability.Guardrail(
            profiles=["strict"],
            prompt_injection_detection=True,
            jailbreak_detection=True,
            pii_detection=True,
            pii_redaction=True,
            content_moderation=True,
            fail_on_detection=True,
            options={"languages": ["en"]},
        ),
        stats=reliability.Stats(
            tests=["ttest", "bootstrap"],
            alpha=0.05,
            confidence_level=0.95,
            effect_size_type="cohens_d",
            multiple_testing_correction="holm",
            bootstrap_iterations=10_000,
            options={"seed": 42},
        ),
        fairness=reliability.Fairness(
            enabled=True,
            metrics=["demographic_parity", "equalized_odds"],
            group_by="gender",
            threshold=0.8,
            fail_on_violation=True,
            options={"mode": "strict"},
        ),
        monitoring=reliability.Monitoring(
            enabled=True,
            metrics=["latency_ms", "error_rate"],
            interval_seconds=30,
            sampling_rate=0.5,
            latency_threshold_ms=2_000.0,
            error_rate_threshold=0.05,
            alert_channels=["slack:#mlops"],
            options={"dashboard": "grafana"},
        ),
        drift=drift_detection(),
        circuit_breaker=reliability.CircuitBreaker(
            enabled=True,
            failure_threshold=5,
            error_rate_threshold=0.5,
            window_seconds=60,
            reset_timeout_ms=30_000,
            half_open_max_calls=3,
            success_threshold=2,
            options={"per_model": True},
        ),
        feedback=feedback_config(),
        rate_limiting=rate_limit(),
        caching=reliability.Cache(
            enabled=True,
            backend="redis",
            ttl_seconds=3600,
            max_entries=100_000,
            key_fields=["prompt", "model"],
            semantic=True,
            similarity_threshold=0.95,
            options={"namespace": "exp"},
        ),
    )


def output_spec() -> OutputSpec:
    return OutputSpec(
        name="results",
        formats=["json", "html"],
        sink="s3",
        options={"bucket": "crucible-results"},
        compression="gzip",
        partitioning={"by": ["date"]},
        retention_policy={"days": 90},
        encryption=True,
        notification={"channels": ["slack:#mlops"], "on": ["success", "failure"]},
    )


def ab_test() -> feedback.ABTestConfig:
    return feedback.ABTestConfig(
        id="ab_gpt2",
        variants=[
            feedback.ABVariant(
                name="control",
                traffic_percent=90.0,
                model_version_id="gpt2_base_1_0_0",
                backend_id="local_gpt2",
                options={"color": "blue"},
            ),
            feedback.ABVariant(
                name="treatment", traffic_percent=10.0, model_version_id="gpt2_base_1_1_0"
            ),
        ],
        control="control",
        metrics=["thumbs_up_rate", "latency_ms"],
        primary_metric="thumbs_up_rate",
        significance_level=0.05,
        min_sample_size=1000,
        start_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
        end_at=datetime(2026, 1, 15, tzinfo=timezone.utc),
        options={"sticky_sessions": True},
    )


def deployment_config() -> deployment.Config:
    return deployment.Config(
        id="deploy_prod",
        model_version_id="gpt2_base_1_1_0",
        target=deployment.Target(
            type="kubernetes",
            cluster="prod-eu",
            namespace="ml",
            region="eu-west-1",
            credentials_ref="k8s_prod",
            options={"node_pool": "gpu"},
        ),
        replicas=3,
        resources=deployment.ResourceSpec(
            cpu="2",
            memory="4Gi",
            cpu_limit="4",
            memory_limit="8Gi",
            gpu=1,
            gpu_type="nvidia-l4",
            options={"shm": "1Gi"},
        ),
        scaling=deployment.ScalingConfig(
            min_replicas=2,
            max_replicas=5,
            target_cpu_percent=70.0,
            target_memory_percent=80.0,
            target_requests_per_second=50.0,
            scale_up_cooldown_seconds=60,
            scale_down_cooldown_seconds=300,
            options={"metric_source": "prometheus"},
        ),
        environment="production",
        strategy="canary",
        health_check=deployment.HealthCheckConfig(
            protocol="http",
            path="/health",
            port=8080,
            interval_seconds=10,
            timeout_seconds=2,
            initial_delay_seconds=30,
            healthy_threshold=1,
            unhealthy_threshold=3,
            options={"headers": {"x-probe": "1"}},
        ),
        endpoint=deployment.EndpointConfig(
            url="https://api.example.com/v1",
            path="/v1/generate",
            port=443,
            protocol="https",
            auth="bearer",
            auth_secret_ref="DEPLOYMENT_API_TOKEN",
            timeout_ms=30_000,
            max_request_bytes=1_048_576,
            cors_origins=["https://app.example.com"],
            rate_limit=rate_limit(),
            options={"stream": True},
        ),
        metadata={"owner": "mlops"},
        options={"annotations": {"team": "ml"}},
        canary=deployment.CanaryConfig(
            initial_traffic_percent=5.0,
            step_percent=15.0,
            step_interval_seconds=600,
            max_traffic_percent=100.0,
            max_error_rate=0.02,
            max_latency_p99_ms=1_500.0,
            metrics=["error_rate", "latency_p99_ms"],
            options={"analysis": "prometheus"},
        ),
        rollback=deployment.RollbackConfig(
            automatic=True,
            to_model_version_id="gpt2_base_1_0_0",
            error_rate_threshold=0.05,
            latency_threshold_ms=3_000.0,
            health_check_failures=3,
            window_seconds=300,
            options={"notify": True},
        ),
        created_at=datetime(2025, 12, 26, 14, 0, tzinfo=PARIS),
    )


def deployment_status() -> deployment.Status:
    return deployment.Status(
        id="deploy_status_001",
        deployment_id="deploy_prod",
        state="active",
        ready_replicas=3,
        total_replicas=3,
        endpoint_url="https://api.example.com/v1",
        traffic_percent=100.0,
        health="healthy",
        last_health_check=datetime(2025, 12, 26, 12, 5, tzinfo=timezone.utc),
        error_message=None,
        created_at=T0,
        updated_at=datetime(2025, 12, 26, 12, 10, tzinfo=timezone.utc),
    )


def feedback_event() -> feedback.Event:
    return feedback.Event(
        id="evt_123",
        deployment_id="deploy_prod",
        model_version="1.1.0",
        input={"prompt": "Hello"},
        output={"text": "Hi"},
        feedback_type="thumbs",
        feedback_value="up",
        user_id="user_1",
        session_id="session_1",
        latency_ms=120.5,
        timestamp=datetime(2025, 12, 26, 12, 10, tzinfo=NEW_YORK),
        metadata={"source": "web"},
        request_id="req_9",
        trace_id="trace_4",
        options={"ui": "v2"},
    )


def correction_event() -> feedback.CorrectionEvent:
    return feedback.CorrectionEvent(
        id="cor_1",
        corrected_output={"text": "Paris is the capital of France."},
        original_output={"text": "Lyon is the capital of France."},
        event_id="evt_123",
        deployment_id="deploy_prod",
        model_version="1.1.0",
        input={"prompt": "What is the capital of France?"},
        reason="factual error",
        corrected_by="user_1",
        timestamp=datetime(2025, 12, 26, 12, 11, tzinfo=timezone.utc),
        metadata={"source": "review_queue"},
    )


def labeling_task() -> feedback.LabelingTask:
    return feedback.LabelingTask(
        id="task_1",
        labels=["correct", "incorrect", "unsure"],
        status="completed",
        input={"prompt": "2+2?", "output": "4"},
        event_ids=["evt_123"],
        instructions="Is the answer correct?",
        multi_label=False,
        annotators_required=2,
        assignees=["ann_1", "ann_2"],
        priority=5,
        result=["correct"],
        deadline=datetime(2026, 1, 2, tzinfo=timezone.utc),
        created_at=T0,
        completed_at=datetime(2025, 12, 27, 9, 0, tzinfo=PARIS),
        metadata={"batch": 3},
    )


def experiment() -> Experiment:
    version = model_version()
    return Experiment(
        id="gpt4_benchmark",
        backend=backend_ref(),
        pipeline=[
            StageDef(
                name="preprocessing",
                module="crucible.pipeline.stages:Preprocess",
                options={"normalize": True},
                enabled=True,
            ),
            StageDef(name="inference"),
            StageDef(name="evaluation", enabled=False),
        ],
        description="Production reliability benchmark",
        owner="mlops",
        tags=["llm", "benchmark"],
        metadata={"team": "reliability"},
        dataset=dataset_ref(),
        reliability=reliability_config(),
        outputs=[output_spec(), OutputSpec(name="summary", sink="stdout")],
        created_at=datetime(2025, 12, 25, 10, 0, tzinfo=PARIS),
        updated_at=datetime(2025, 12, 26, 10, 0, tzinfo=PARIS),
        experiment_type="comparison",
        model_version=version,
        training_config=training_config(),
        baseline=ModelRef(id="gpt2_base", version="1.0.0", provider="huggingface"),
        ab_test=ab_test(),
        deployment=deployment_config(),
    )


DOCUMENT_EXAMPLES = {
    "experiment": experiment,
    "model_ref": model_ref,
    "model_version": model_version,
    "training_config": training_config,
    "training_run": training_run,
    "deployment_config": deployment_config,
    "deployment_status": deployment_status,
    "feedback_event": feedback_event,
    "correction_event": correction_event,
    "labeling_task": labeling_task,
}
