"""Charts of the staff pages: the data behind them on hand-computed cases, and real PNG pictures out."""

import io

import matplotlib.image

from labeling import charts


def decode(png: bytes):
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return matplotlib.image.imread(io.BytesIO(png), format="png")


def test_curve_series_uses_recorded_steps_and_skips_missing_values():
    histories = {
        "Optimise the rewriter": [
            {"step": 1, "reward": 0.1, "kl": 0.0},
            {"step": 2, "kl": 0.01},
            {"step": 3, "reward": 0.4, "kl": float("nan")},
        ],
        "SFT warm start": [{"loss": 2.0}, {"loss": 1.5}],
    }
    assert charts.curve_series(histories, "reward") == {"Optimise the rewriter": ([1.0, 3.0], [0.1, 0.4])}
    assert charts.curve_series(histories, "kl") == {"Optimise the rewriter": ([1.0, 2.0], [0.0, 0.01])}
    assert charts.curve_series(histories, "loss") == {"SFT warm start": ([1.0, 2.0], [2.0, 1.5])}
    assert charts.curve_series(histories, "m") == {}


def test_line_chart_draws_the_data():
    empty = decode(charts.line_chart_png({}, "Reward"))
    drawn = decode(charts.line_chart_png({"run": ([1, 2, 3], [0.1, 0.5, 0.2])}, "Reward"))
    assert drawn.shape == empty.shape == (300, 520, 4)
    # The curve's colour (#2f5bea) appears only when there are points.
    blue = (abs(drawn[..., 0] - 0x2F / 255) < 0.05) & (abs(drawn[..., 2] - 0xEA / 255) < 0.05)
    assert blue.sum() > 50
    assert ((abs(empty[..., 0] - 0x2F / 255) < 0.05) & (abs(empty[..., 2] - 0xEA / 255) < 0.05)).sum() == 0


def test_evaluation_pictures_are_png():
    for png in [
        charts.mean_points_png([(5.0, 5.4), (6.0, 5.9)], "Calibration", "true", "predicted"),
        charts.bar_chart_png({"5.0": 0.7, "6.0": 0.4}, "MAE per band"),
        charts.confusion_png([5.0, 6.0], [[3, 1], [0, 4]]),
        charts.scatter_png([5, 6], [5.5, 6.5], "Scorer vs human", "human", "scorer"),
        charts.mean_points_png([], "Calibration", "true", "predicted"),
        charts.confusion_png([], []),
    ]:
        image = decode(png)
        assert image.shape[0] > 100 and image.shape[1] > 100


def test_band_counts_per_half_band():
    counts = charts.band_counts([5.0, 5.5, 5.5, 9.0, 0.0])
    assert len(counts) == 19
    assert (counts[0], counts[10], counts[11], counts[18], sum(counts)) == (1, 1, 2, 1, 5)


def test_stacked_points_count_ratings_sharing_a_position():
    points = [(6.0, 6.5, "ann"), (6.0, 6.5, "bob"), (6.0, 5.0, "ann"), (7.0, 7.0, "cy")]
    assert charts.stacked_points(points) == [(6.0, 5.0, 1), (6.0, 6.5, 2), (7.0, 7.0, 1)]


def test_agreement_charts_are_inline_svg_with_their_data():
    histogram = charts.band_histogram_svg([5.0, 6.0, 6.0], [6.5])
    assert histogram.startswith('<svg role="img" aria-label="band distribution of originals and rewrites"')
    assert "<?xml" not in histogram and histogram.rstrip().endswith("</svg>")
    assert "originals (3)" in histogram and "rewrites (1)" in histogram
    scatter = charts.gold_scatter_svg([(6.0, 6.5, "ann"), (6.0, 6.5, "bob")])
    assert "gold ratings (2)" in scatter and "reference band" in scatter
    # Without data each says so instead of drawing empty axes.
    assert "no ratings yet" in charts.band_histogram_svg([], [])
    assert "no gold ratings yet" in charts.gold_scatter_svg([])
    assert "gold ratings (" not in charts.gold_scatter_svg([])


def test_two_svgs_on_one_page_do_not_share_element_ids():
    import re

    first, second = charts.band_histogram_svg([5.0], [6.0]), charts.gold_scatter_svg([(6.0, 6.5, "ann")])
    ids = re.findall(r'id="([^"]+)"', first), re.findall(r'id="([^"]+)"', second)
    assert ids[0] and ids[1] and not set(ids[0]) & set(ids[1])
    # Every reference (clip paths, markers) points into its own chart.
    for svg, own in zip((first, second), ids, strict=True):
        references = re.findall(r'(?:url\(#|href="#)([^")]+)', svg)
        assert references and set(references) <= set(own)
