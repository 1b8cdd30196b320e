"""The scorer's learnt members and their inputs: ridge and monotone LightGBM on the essay features (ensemble
family), TF-IDF + ridge (judge and tfidf_ridge families). Saved scorers pickle these classes (older ones under
rl.scorer.model, which re-exports them)."""

from dataclasses import dataclass, field

import numpy as np

from rl.scorer.features import MONOTONE

# The ridge member's predictions stop this many bands beyond the training bands: far outside the training range a
# linear model extrapolates without limit (-2 for a short essay when the lowest band taught was 4), while the tree
# members stop at their edge.
RIDGE_BAND_MARGIN = 1.0


@dataclass
class Features:
    """Inputs of the learnt members for a batch of essays."""

    table: np.ndarray  # one column per name in `names`
    names: tuple[str, ...] = ()
    style: np.ndarray | None = None  # middle-layer MiniLM states (ensemble family)
    texts: list[str] = field(default_factory=list)  # normalised essays (TF-IDF families)


class RidgeMember:
    """Standardised features -> ridge; features with a required direction whose weight comes out the wrong way are
    dropped and the ridge refitted, so e.g. more repetition can never raise the band through this member. Predictions
    are bounded to RIDGE_BAND_MARGIN beyond the training bands."""

    def __init__(self, alpha: float, use_style: bool):
        self.alpha = alpha
        self.use_style = use_style

    def _matrix(self, features: Features) -> np.ndarray:
        parts = [features.table] + ([features.style] if self.use_style else [])
        return np.hstack(parts)

    def fit(self, features: Features, y: np.ndarray, weights: np.ndarray) -> "RidgeMember":
        from sklearn.linear_model import Ridge

        x = self._matrix(features)
        self.mean = x.mean(0)
        self.scale = np.where(x.std(0) > 1e-12, x.std(0), 1.0)
        z = (x - self.mean) / self.scale
        self.keep = np.ones(x.shape[1], dtype=bool)
        signs = np.zeros(x.shape[1])
        signs[: len(features.names)] = [MONOTONE.get(name, 0) for name in features.names]
        for _ in range(len(MONOTONE) + 1):
            model = Ridge(alpha=self.alpha).fit(z[:, self.keep], y, sample_weight=weights)
            coef = np.zeros(x.shape[1])
            coef[self.keep] = model.coef_
            wrong = (signs * coef) < 0
            if not wrong.any():
                break
            self.keep &= ~wrong
        self.coef = coef
        self.intercept = float(model.intercept_)
        self.band_limits = (float(y.min()) - RIDGE_BAND_MARGIN, float(y.max()) + RIDGE_BAND_MARGIN)
        return self

    def predict(self, features: Features) -> np.ndarray:
        raw = ((self._matrix(features) - self.mean) / self.scale) @ self.coef + self.intercept
        # Members of format-3 scorers and older have no limits: they predict as they did when saved.
        limits = getattr(self, "band_limits", None)
        return raw if limits is None else np.clip(raw, *limits)


class LightGBMMember:
    """Features + PCA of the middle-layer states -> LightGBM with monotone constraints on the guarded features."""

    def __init__(self, config, seed: int):
        self.config = config
        self.seed = seed

    def _matrix(self, features: Features) -> np.ndarray:
        return np.hstack([features.table, self.pca.transform(features.style)])

    def fit(self, features: Features, y: np.ndarray, weights: np.ndarray) -> "LightGBMMember":
        import lightgbm as lgb
        from sklearn.decomposition import PCA

        # Small training sets (tests, first rounds) have fewer essays than components.
        components = min(self.config.pca_components, *features.style.shape)
        self.pca = PCA(components, random_state=self.seed).fit(features.style)
        monotone = [MONOTONE.get(name, 0) for name in features.names] + [0] * components
        self.model = lgb.LGBMRegressor(
            n_estimators=self.config.lgbm_estimators,
            learning_rate=self.config.lgbm_learning_rate,
            num_leaves=self.config.lgbm_leaves,
            min_child_samples=20,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.5,
            monotone_constraints=monotone,
            random_state=self.seed,
            n_jobs=1,
            verbose=-1,
        ).fit(self._matrix(features), y, sample_weight=weights)
        return self

    def predict(self, features: Features) -> np.ndarray:
        return self.model.predict(self._matrix(features))


class TfidfRidgeMember:
    """Word 1-2-gram and character 2-5-gram TF-IDF (+ standardised hand features when given) -> ridge."""

    def __init__(self, alpha: float, max_features: int, use_table: bool):
        self.alpha = alpha
        self.max_features = max_features
        self.use_table = use_table

    def _matrix(self, features: Features):
        from scipy.sparse import csr_matrix, hstack

        parts = [self.words.transform(features.texts), self.chars.transform(features.texts)]
        if self.use_table:
            parts.append(csr_matrix((features.table - self.mean) / self.scale))
        return hstack(parts).tocsr()

    def fit(self, features: Features, y: np.ndarray, weights: np.ndarray) -> "TfidfRidgeMember":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import Ridge

        self.words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=self.max_features)
        self.chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), min_df=3, sublinear_tf=True, max_features=self.max_features
        )
        self.words.fit(features.texts)
        self.chars.fit(features.texts)
        if self.use_table:
            self.mean = features.table.mean(0)
            self.scale = np.where(features.table.std(0) > 1e-12, features.table.std(0), 1.0)
        self.model = Ridge(alpha=self.alpha).fit(self._matrix(features), y, sample_weight=weights)
        return self

    def predict(self, features: Features) -> np.ndarray:
        return self.model.predict(self._matrix(features))


def make_members(config) -> list:
    if config.family == "ensemble":
        members = [RidgeMember(config.ridge_alpha, use_style=True)]
        return members + [LightGBMMember(config, seed) for seed in config.seeds]
    if config.family == "judge":
        return [TfidfRidgeMember(config.tfidf_alpha, config.tfidf_max_features, use_table=True)]
    return [TfidfRidgeMember(config.tfidf_alpha, config.tfidf_max_features, use_table=False)]


def subset(features: Features, index: np.ndarray) -> Features:
    return Features(
        table=features.table[index],
        names=features.names,
        style=None if features.style is None else features.style[index],
        texts=[features.texts[i] for i in index] if features.texts else [],
    )


def fit_members(config, features: Features, y: np.ndarray, weights: np.ndarray) -> list:
    return [member.fit(features, y, weights) for member in make_members(config)]
