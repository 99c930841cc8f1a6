"""Generate the churn example's training sample, deterministically.

    python data/generate.py            # writes data/train.csv (3000 rows)
    python data/generate.py --rows 500 --seed 7 --out data/other.csv

Numeric and categorical columns with a known relation to the label, so a model has something to learn
and drift tests have distributions to shift.
"""

import argparse
import csv

import numpy as np

PLANS = ["basic", "pro", "enterprise"]
PAYMENTS = ["card", "bank_transfer", "invoice"]


def generate(rows: int, seed: int):
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 73, size=rows)
    plan = rng.choice(PLANS, size=rows, p=[0.55, 0.35, 0.10])
    base = np.select([plan == "basic", plan == "pro"], [25.0, 60.0], 110.0)
    monthly = np.round(base + rng.normal(0, 8, size=rows), 2).clip(5, None)
    calls = rng.poisson(1.2 + (tenure < 6) * 1.5, size=rows)
    payment = rng.choice(PAYMENTS, size=rows, p=[0.5, 0.3, 0.2])
    logit = -0.6 - 0.045 * tenure + 0.012 * monthly + 0.45 * calls + np.where(payment == "invoice", 0.6, 0.0) - np.where(plan == "enterprise", 0.8, 0.0)
    p = 1 / (1 + np.exp(-logit))
    churned = (rng.random(rows) < p).astype(int)
    for i in range(rows):
        yield {
            "tenure_months": int(tenure[i]),
            "monthly_charges": float(monthly[i]),
            "support_calls": int(calls[i]),
            "plan": str(plan[i]),
            "payment_method": str(payment[i]),
            "churned": int(churned[i]),
        }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default="data/train.csv")
    args = parser.parse_args()
    fields = ["tenure_months", "monthly_charges", "support_calls", "plan", "payment_method", "churned"]
    with open(args.out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for row in generate(args.rows, args.seed):
            writer.writerow(row)


if __name__ == "__main__":
    main()
