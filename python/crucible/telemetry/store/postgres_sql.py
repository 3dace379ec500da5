"""The SQL of :class:`~crucible.telemetry.store.postgres.PostgresStore`: tables, ingest, rollups.

Templates name tables as ``{events}``, ``{rollups}``, ``{rollup_hist}``, ``{experiments}``
and ``{meta}``; the store fills them with schema-qualified identifiers (``psycopg.sql``).
Statements run with parameters double their ``%`` signs.
"""

from __future__ import annotations

__all__ = [
    "COLUMNS",
    "COPY_SQL",
    "COPY_TYPES",
    "EVENT_INDEXES",
    "EXPERIMENTS_DDL",
    "MERGE_SQL",
    "META_DDL",
    "ROLLUPS_DDL",
    "ROLLUP_HIST_DDL",
    "ROLLUP_HIST_SQL",
    "ROLLUP_SQL",
    "STAGING_DDL",
]

# CapturedEvent field -> column type. Identifiers compare bytewise (COLLATE "C"): faster
# than a locale and the same order as Python's str and SQLite's BINARY collation. Payloads
# are ``json`` (verbatim text, queryable with ->>) rather than jsonb, which rejects \u0000.
COLUMNS: dict[str, str] = {
    "event_id": 'text COLLATE "C" NOT NULL',
    "event_name": 'text COLLATE "C" NOT NULL',
    "experiment_id": 'text COLLATE "C" NOT NULL',
    "experiment_name": "text NOT NULL",
    "condition": "text",
    "tags": "json NOT NULL",
    "correlation_id": "text",
    "stream_id": 'text COLLATE "C" NOT NULL',
    "sequence": "bigint NOT NULL",
    "wall_time_us": "bigint NOT NULL",
    "monotonic_ns": "bigint NOT NULL",
    "node_id": "text NOT NULL",
    "category": "text NOT NULL",
    "measurements": "json NOT NULL",
    "metadata": "json NOT NULL",
    "latency_ms": "double precision",
    "cost_usd": "double precision",
    "success": "boolean",
    "model": "text",
    "provider": "text",
    "tokens_in": "bigint",
    "tokens_out": "bigint",
    "error": "text",
    "session_id": "text",
    "user_id": "text",
    "sample_id": "text",
    "cohort": "text",
    "derived": "json NOT NULL",
    "weight": "double precision NOT NULL",
}

META_DDL = "CREATE TABLE IF NOT EXISTS {meta} (key text PRIMARY KEY, value text NOT NULL)"

# (index name suffix, method and columns), beside the unique key on event_id. Every btree
# costs ingest speed, so there is one: queries filter by experiment and read in time order
# (an event-name filter is checked on the way); time ranges over all experiments use the
# BRIN index, which costs next to nothing on ingest.
EVENT_INDEXES = (
    ("by_experiment", "btree (experiment_id, wall_time_us, event_id)"),
    ("by_time", "brin (wall_time_us)"),
)

ROLLUPS_DDL = """
CREATE TABLE {rollups} (
    experiment_id text COLLATE "C" NOT NULL,
    window_start_us bigint NOT NULL,
    event_name text COLLATE "C" NOT NULL,
    count bigint NOT NULL,
    weight_sum double precision NOT NULL,
    success_count bigint NOT NULL,
    error_count bigint NOT NULL,
    latency_count bigint NOT NULL,
    latency_sum double precision NOT NULL,
    latency_sum_sq double precision NOT NULL,
    latency_min double precision,
    latency_max double precision,
    cost_usd double precision NOT NULL,
    tokens_in bigint NOT NULL,
    tokens_out bigint NOT NULL,
    PRIMARY KEY (experiment_id, window_start_us, event_name)
)"""

ROLLUP_HIST_DDL = """
CREATE TABLE {rollup_hist} (
    experiment_id text COLLATE "C" NOT NULL,
    window_start_us bigint NOT NULL,
    event_name text COLLATE "C" NOT NULL,
    bucket integer NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (experiment_id, window_start_us, event_name, bucket)
)"""

EXPERIMENTS_DDL = """
CREATE TABLE {experiments} (
    experiment_id text COLLATE "C" PRIMARY KEY,
    name text NOT NULL,
    started_us bigint NOT NULL,
    record json NOT NULL
)"""

# Batches arrive by binary COPY into a temporary table shaped like the events table; the
# payload columns are encoded by msgspec inside psycopg's json dumper. ``json`` input only
# checks syntax, so payloads keep even the escape \u0000 that jsonb and JSON functions refuse.
STAGING_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS crucible_staging (LIKE {events}) ON COMMIT DELETE ROWS"
)
COPY_SQL = "COPY crucible_staging ({fields}) FROM STDIN (FORMAT BINARY)"
# The binary COPY type of each column type.
COPY_TYPES = {
    "text": "text",
    "json": "json",
    "bigint": "int8",
    "double": "float8",
    "boolean": "bool",
}

# Insert the staged events that are new, then fold exactly those into the rollups, in one
# statement. Rollup rows are upserted in key order so that concurrent writers lock them in
# the same order. Non-finite latencies and costs are stored but left out of the rollups.
# The latency bucket is computed as latency_bucket() does in Python
# (ceil(ln(max(ms, 1e-6)) / ln(gamma)), the same libm log), so every store agrees.
MERGE_SQL = """
WITH ins AS (
    INSERT INTO {events} ({fields})
    SELECT {fields} FROM crucible_staging
    ON CONFLICT DO NOTHING
    RETURNING experiment_id, event_name, wall_time_us, weight, success, latency_ms, cost_usd,
        tokens_in, tokens_out
), g AS (
    SELECT ins.*,
        CASE WHEN latency_ms NOT IN ('NaN', 'Infinity', '-Infinity') THEN latency_ms END AS lat,
        CASE WHEN cost_usd NOT IN ('NaN', 'Infinity', '-Infinity') THEN cost_usd END AS cost
    FROM ins
), f AS (
    SELECT g.*,
        g.wall_time_us - ((g.wall_time_us % {window}) + {window}) % {window} AS ws,
        CASE WHEN g.lat IS NOT NULL  -- greatest() would turn NULL into the floor
            THEN ceil(ln(greatest(g.lat, {min_ms})) / {log_gamma})::integer
        END AS bucket
    FROM g
), r AS (
    INSERT INTO {rollups} AS r
    SELECT experiment_id, ws, event_name, count(*), sum(weight),
        count(*) FILTER (WHERE success), count(*) FILTER (WHERE NOT success),
        count(lat), coalesce(sum(lat), 0), coalesce(sum(lat * lat), 0), min(lat), max(lat),
        coalesce(sum(cost), 0), coalesce(sum(tokens_in), 0), coalesce(sum(tokens_out), 0)
    FROM f GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (experiment_id, window_start_us, event_name) DO UPDATE SET
        count = r.count + excluded.count,
        weight_sum = r.weight_sum + excluded.weight_sum,
        success_count = r.success_count + excluded.success_count,
        error_count = r.error_count + excluded.error_count,
        latency_count = r.latency_count + excluded.latency_count,
        latency_sum = r.latency_sum + excluded.latency_sum,
        latency_sum_sq = r.latency_sum_sq + excluded.latency_sum_sq,
        latency_min = least(r.latency_min, excluded.latency_min),
        latency_max = greatest(r.latency_max, excluded.latency_max),
        cost_usd = r.cost_usd + excluded.cost_usd,
        tokens_in = r.tokens_in + excluded.tokens_in,
        tokens_out = r.tokens_out + excluded.tokens_out
    RETURNING 1
), h AS (
    INSERT INTO {rollup_hist} AS h
    SELECT experiment_id, ws, event_name, bucket, count(*)
    FROM f WHERE bucket IS NOT NULL
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (experiment_id, window_start_us, event_name, bucket)
    DO UPDATE SET count = h.count + excluded.count
    RETURNING 1
)
SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM r), (SELECT count(*) FROM h)
"""


# Base windows merged into windows of {window} µs (parameters follow: doubled %).
ROLLUP_SQL = """
SELECT window_start_us - ((window_start_us %% {window}) + {window}) %% {window} AS ws,
    event_name, {sums}, min(latency_min), max(latency_max)
FROM {rollups}{where}
GROUP BY ws, event_name ORDER BY ws, event_name
"""

ROLLUP_HIST_SQL = """
SELECT window_start_us - ((window_start_us %% {window}) + {window}) %% {window} AS ws,
    event_name, bucket, sum(count)
FROM {rollup_hist}{where}
GROUP BY ws, event_name, bucket
"""
