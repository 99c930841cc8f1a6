"""Train churn: the training and retraining entry point (`retraining.command` in mlship.yaml).

    python train.py [--data data/train.csv ...] [--model model/model.joblib] [--metrics metrics.json]
                    [--holdout holdout.csv] [--sample N]

`mlship retrain` runs it with MLSHIP_DATA (the training files, ':'-separated) and MLSHIP_HOLDOUT (where
to write the held-out rows, raw fields and label, on which the gate scores this model and the live one).

It imports the same `features` package as the serving app, so training and serving compute the same
features. It writes the model and `metrics.json` (scores on a holdout split this script defines).
"""
import argparse
import glob
import json
import os

import joblib
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import train_test_split

from features import transform

LABEL = "churned"

# mlship: train (from churn.ipynb)
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def train(X: pd.DataFrame, y: pd.Series) -> Pipeline:
    """Fit the churn model on transformed features."""
    categorical = ["plan", "payment_method"]
    numeric = [c for c in X.columns if c not in categorical]
    model = Pipeline([
        ("prepare", ColumnTransformer([
            ("numeric", StandardScaler(), numeric),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
        ])),
        ("classify", LogisticRegression(max_iter=1000)),
    ])
    return model.fit(X, y)


def from_env(name):
    """A ':'-separated list of files from the environment (how `mlship retrain` passes its data)."""
    value = os.environ.get(name)
    return value.split(os.pathsep) if value else None


def load(patterns):
    files = sorted({f for p in patterns for f in (glob.glob(p) or [p])})
    return pd.concat([pd.read_csv(f) for f in files], ignore_index=True), files


def main():
    parser = argparse.ArgumentParser(description="Train the model on labelled data.")
    parser.add_argument("--data", nargs="+", default=from_env("MLSHIP_DATA") or ["data/train.csv"], help="CSV files or globs")
    parser.add_argument("--model", default="model/model.joblib")
    parser.add_argument("--metrics", default="metrics.json")
    parser.add_argument("--holdout", default=os.environ.get("MLSHIP_HOLDOUT"), help="write the holdout rows (raw fields + label) to this CSV")
    parser.add_argument("--sample", type=int, help="train on only N rows (for experiments)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    df, files = load(args.data)
    # Split the raw rows (the same split as splitting the features): the holdout is written as raw
    # fields, so mlship can score any model on it through the serving code.
    train_rows, test_rows = train_test_split(df, test_size=0.2, random_state=args.seed, stratify=df[LABEL])
    if args.sample:
        train_rows = train_rows.iloc[: args.sample]
    X_train, y_train = transform(train_rows.drop(columns=[LABEL])), train_rows[LABEL]
    X_test, y_test = transform(test_rows.drop(columns=[LABEL])), test_rows[LABEL]
    if args.holdout:
        os.makedirs(os.path.dirname(args.holdout) or ".", exist_ok=True)
        test_rows.to_csv(args.holdout, index=False)
    model = train(X_train, y_train)

    positive = model.classes_[1]
    proba = model.predict_proba(X_test)[:, 1]
    labels = model.predict(X_test)
    metrics = {
        "auc": float(roc_auc_score(y_test == positive, proba)),
        "accuracy": float(accuracy_score(y_test, labels)),
        "f1": float(f1_score(y_test == positive, labels == positive)),
        "rows": {"train": int(len(X_train)), "holdout": int(len(X_test))},
        "data": files,
    }
    os.makedirs(os.path.dirname(args.model) or ".", exist_ok=True)
    joblib.dump(model, args.model)
    with open(args.metrics, "w") as f:
        json.dump(metrics, f, indent=2)
    print(f"trained on {len(X_train)} rows: holdout auc={metrics['auc']:.4f} accuracy={metrics['accuracy']:.4f}")


if __name__ == "__main__":
    main()
