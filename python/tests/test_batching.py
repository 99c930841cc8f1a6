"""Micro-batching: the batcher's scheduling, and a batched prediction equal to the unbatched one."""

import asyncio
import random
import sys
import types

import pandas as pd
from conftest import GOOD
from mlship_serving import loaders
from mlship_serving.batching import Batcher, Job
from mlship_serving.predictor import Predictor
from mlship_serving.validation import Validator


def job(records):
    return Job(records, False, 0.0, 0.0, "r")


def test_a_lone_request_runs_at_once_and_alone():
    batches = []

    async def main():
        b = Batcher(lambda jobs: batches.append([len(j.records) for j in jobs]), 64, 0)
        await b.submit(job([1]))
        await b.submit(job([2]))

    asyncio.run(main())
    assert batches == [[1], [1]]


def test_requests_waiting_together_share_one_call_capped_at_max_batch():
    batches = []

    def run(jobs):
        batches.append([len(j.records) for j in jobs])
        for j in jobs:
            j.result = j.records

    async def main():
        b = Batcher(run, 8, 0)
        # 10 requests of 1 record and one client batch of 3 arrive in the same turn of the loop.
        jobs = [job([i]) for i in range(10)] + [job(["a", "b", "c"])]
        done = await asyncio.gather(*(b.submit(j) for j in jobs))
        return done

    done = asyncio.run(main())
    assert batches == [[1] * 8, [1, 1, 3]]
    assert [j.result for j in done][-1] == ["a", "b", "c"]


def test_batching_off_runs_each_request_alone():
    batches = []

    async def main():
        b = Batcher(lambda jobs: batches.append(len(jobs)), None, 0)
        await asyncio.gather(*(b.submit(job([i])) for i in range(5)))

    asyncio.run(main())
    assert batches == [1] * 5


def _records(n, seed=7):
    rng = random.Random(seed)
    df = pd.read_csv(__import__("conftest").EXAMPLE + "/data/train.csv")
    rows = df.drop(columns=["churned"]).to_dict("records")
    return [rows[rng.randrange(len(rows))] for _ in range(n)]


def test_batched_equals_unbatched_on_the_example(spec, model_path):
    v = Validator(spec.fields, 1000)
    p = Predictor(spec, loaders.load("joblib", model_path, "probability"))
    records = [v.check_record(r) for r in _records(200)]
    alone = [p([r])[0] for r in records]
    for size in (2, 7, 64, 200):
        together = []
        for k in range(0, len(records), size):
            together += p(records[k : k + size])
        assert max(abs(a - b) for a, b in zip(alone, together)) <= 1e-12, size


def test_a_nullable_number_gives_the_same_features_alone_and_in_a_batch(spec):
    """A missing number is NaN in a float column whatever its batch-mates hold (not None in an object
    column when alone): a transform doing arithmetic on it behaves the same both ways."""
    fields = tuple(f._replace(nullable=True) if f.name == "monthly_charges" else f for f in spec.fields)
    p = Predictor(spec._replace(fields=fields))
    rec = {**GOOD, "monthly_charges": None}
    alone = p.features([rec])
    mixed = p.features([{**GOOD}, rec])
    assert str(alone["monthly_charges"].dtype) == "float64"
    assert alone["charges_per_tenure"].isna().all() and mixed["charges_per_tenure"].isna().iloc[1]


def test_a_row_order_dependent_transform_is_what_parity_already_rejects(spec, model_path):
    """A transform using statistics of its frame (here: centring on the batch mean) gives a record
    different features alone and in a batch, and also differs between the whole training frame and
    one record: the parity check fails the build before such a transform is ever served batched."""
    module = types.ModuleType("centred_features")

    def transform(df):
        out = pd.DataFrame(index=df.index)
        out["charges"] = df["monthly_charges"] - df["monthly_charges"].mean()
        return out

    module.transform = transform
    sys.modules["centred_features"] = module
    p = Predictor(spec._replace(features_package="centred_features"))
    a = {**GOOD, "monthly_charges": 20.0}
    b = {**GOOD, "monthly_charges": 100.0}
    assert p.features([a])["charges"].iloc[0] == 0.0
    assert p.features([a, b])["charges"].iloc[0] == -40.0
