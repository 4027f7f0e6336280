"""Semantic search latency of RedisStore over 10k items, with and without Redis 8 vector sets.

    python bench/store_search.py                  # 10k items, dims 384 and 1536 (~15 min)
    python bench/store_search.py --items 2000 --dims 128 --queries 10     # quick

Servers: a Redis 8 binary (``scripts/redis-servers.py path 8.0``, or ``--redis8 PATH``) for
the vector-set rows and for an exact scan on the same server (``vector_sets=False``), and
``$AREDIS_REDIS_SERVER`` / ``redis-server`` on PATH for an exact scan on a server without vector
sets.  Each server is private, on a free loopback port, and removed afterwards.

Embeddings are deterministic, keyed by the text (no model).  "clustered" data looks like real
embeddings: 200 topic centroids plus noise, queries near a centroid.  "random" data (Gaussian
vectors, unrelated queries) is the worst case for HNSW: every item is about as far as every
other.  Per configuration: median and p95 latency of ``search(query, limit=10)`` over the one
namespace holding every item, of the same with a filter keeping half of the items, of a plain
10-item page and of ``get``; the cost of writes (ms per put, in batches, embedding excluded);
recall@10 of the vector-set rows against NumPy's exact ranking.  Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langgraph.store.base import PutOp

from aredis_ckpt import RedisStore
from aredis_ckpt._server import RedisServer, find_redis_server

ROOT = Path(__file__).resolve().parents[1]
PUT_BATCH = 100
TOPICS = 200


def embedder(dims: int, data: str) -> Callable[[Sequence[str]], list[list[float]]]:
    centroids = np.random.default_rng(7).standard_normal((TOPICS, dims))

    def embed(texts: Sequence[str]) -> list[list[float]]:
        out = []
        for text in texts:
            rng = np.random.default_rng(zlib.crc32(text.encode()))
            noise = rng.standard_normal(dims)
            if data == "random":
                out.append(noise.tolist())
            else:
                topic = int(text.split()[-1]) % TOPICS
                out.append((centroids[topic] + 0.7 * noise).tolist())
        return out

    return embed


def redis8_binary(given: str | None) -> str | None:
    if given:
        return given
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "redis-servers.py"), "path", "8.0"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    lines = done.stdout.strip().splitlines()
    path = lines[-1] if done.returncode == 0 and lines else ""
    return path if os.path.isabs(path) and os.access(path, os.X_OK) else None


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, list[Any]]:
    samples, results = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        results.append(fn())
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95, results


def run(
    label: str, url: str, items: int, dims: int, data: str, queries: int, vector_sets: bool
) -> dict[str, Any]:
    embed = embedder(dims, data)
    index: Any = {"dims": dims, "embed": embed, "fields": ["text"]}
    prefix = f"bench-{dims}-{data}-{int(vector_sets)}"
    # redis-py 8 gives connections a 5 s socket timeout by default; an exact scan of 10k
    # high-dimensional vectors comes close, so the slow rows get a longer one.
    args = {"socket_timeout": 300, "retry": None}
    texts = [f"document {i}" for i in range(items)]
    vectors = embed(texts)
    with RedisStore.from_conn_string(
        url, key_prefix=prefix, index=index, vector_sets=vector_sets, connection_args=args
    ) as store:
        store.setup()
        started = time.perf_counter()
        for start in range(0, items, PUT_BATCH):
            ops = [
                PutOp(("docs",), f"doc{i}", {"text": texts[i], "half": i % 2})
                for i in range(start, min(items, start + PUT_BATCH))
            ]
            call = store._batch_call(store._plan(ops), [], vectors[start : start + PUT_BATCH])
            store._run(call)  # the batch without its embedding
        load_s = time.perf_counter() - started
        asked = [f"query {q}" for q in range(queries)]
        it = iter(asked)
        q_med, q_p95, found = timed(
            lambda: store.search(("docs",), query=next(it), limit=10), queries
        )
        it = iter(asked)
        f_med, f_p95, _ = timed(
            lambda: store.search(("docs",), query=next(it), filter={"half": 0}, limit=10),
            queries,
        )
        p_med, p_p95, _ = timed(lambda: store.search(("docs",), limit=10, offset=5000), queries)
        g_med, g_p95, _ = timed(lambda: store.get(("docs",), "doc1234"), queries)
        used = bool(store.vector_sets and vector_sets)
    matrix = np.array(vectors)
    matrix /= np.linalg.norm(matrix, axis=1)[:, None]
    hits = 0
    for text, result in zip(asked, found, strict=True):
        truth = np.argsort(-(matrix @ np.array(embed([text])[0])))[:10]
        hits += len({f"doc{i}" for i in truth} & {i.key for i in result})
    return {
        "label": label,
        "dims": dims,
        "data": data,
        "vector_sets": used,
        "ms_per_put": load_s * 1000 / items,
        "query": (q_med, q_p95),
        "query_filter": (f_med, f_p95),
        "page": (p_med, p_p95),
        "get": (g_med, g_p95),
        "recall": hits / (10 * queries),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[384, 1536])
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--redis8", default=None, help="a Redis 8 redis-server binary")
    opts = parser.parse_args()
    r8 = redis8_binary(opts.redis8)
    results = []
    started: list[RedisServer] = []
    try:
        configs: list[tuple[str, str, bool, str]] = []
        if r8:
            s8 = RedisServer(r8).start()
            started.append(s8)
            name = f"Redis {s8.version()}"
            configs += [
                (f"{name}, vector sets", s8.url, True, "clustered"),
                (f"{name}, vector sets", s8.url, True, "random"),
                (f"{name}, exact scan", s8.url, False, "clustered"),
            ]
        else:
            print("no Redis 8 binary: vector-set rows skipped", file=sys.stderr)
        sp = RedisServer(find_redis_server()).start()
        started.append(sp)
        configs.append(
            (f"{sp.flavor().capitalize()} {sp.version()}, exact scan", sp.url, False, "clustered")
        )
        for dims in opts.dims:
            for label, url, vsets, data in configs:
                print(f"... {label}, dims {dims}, {data}", file=sys.stderr)
                results.append(run(label, url, opts.items, dims, data, opts.queries, vsets))
    finally:
        for s in started:
            s.stop()
    print(
        f"\n{opts.items} items in one namespace; median / p95 ms over {opts.queries} calls, "
        "one round trip each (embedding the query excluded)\n"
    )
    print(
        "| server, search | dims | data | search(query), limit 10 | + filter (half) "
        f"| recall@10 | page at offset 5000 | get | ms per put (batches of {PUT_BATCH}) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['label']} | {r['dims']} | {r['data']} "
            f"| {r['query'][0]:.1f} / {r['query'][1]:.1f} "
            f"| {r['query_filter'][0]:.1f} / {r['query_filter'][1]:.1f} | {r['recall']:.3f} "
            f"| {r['page'][0]:.2f} / {r['page'][1]:.2f} | {r['get'][0]:.2f} / {r['get'][1]:.2f} "
            f"| {r['ms_per_put']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
